#include "experiments/cli_report.h"

#include <CLI/CLI.hpp>

#include <fstream>

#include "core/atomic_file.h"
#include "core/error.h"
#include "sim/report/report_html.h"
#include "sim/report/run_files.h"

namespace fedglioma::experiments {
namespace {

namespace fs = std::filesystem;

// The generator tag is in the page's first lines; a report is never shorter than this.
constexpr std::size_t kHeadBytes = 4096;

// An existing `out` may be replaced only when it is a report: anything else is the user's.
void require_replaceable(const fs::path& out) {
  std::error_code ec;
  const fs::file_status status = fs::status(out, ec);
  if (!fs::exists(status)) return;
  if (!fs::is_regular_file(status))
    throw ConfigError("--out '" + out.string() +
                      "' exists and is not a file; give the name of the report file to write");
  std::ifstream in(out, std::ios::binary);
  std::string head(kHeadBytes, '\0');
  in.read(head.data(), static_cast<std::streamsize>(head.size()));
  head.resize(static_cast<std::size_t>(in.gcount()));
  if (!sim::is_report_html(head))
    throw ConfigError("'" + out.string() +
                      "' exists and is not a fedglioma report (it lacks <meta name=\"generator\" " + "content=\"" +
                      sim::kReportGenerator + "\">); report replaces only an earlier report: give " +
                      "another --out, or move that file away");
}

}  // namespace

CLI::App* setup_report(CLI::App& app, ReportOptions& options) {
  CLI::App* cmd = app.add_subcommand(
      "report", "Write one self-contained report.html of a finished run (tables and charts, no other files needed)");
  cmd->add_option("run", options.run_dir, "Run folder (summary.json, rounds.jsonl, config.resolved.json, CSV tables)")
      ->required();
  cmd->add_option("--out", options.out, "Report file to write (default: RUN_DIR/report.html); replaces only a report");
  return cmd;
}

fs::path run_report(const ReportOptions& options, std::ostream& console) {
  sim::require_finished_run(options.run_dir);
  const fs::path out = options.out.empty() ? options.run_dir / "report.html" : options.out;
  const fs::path folder = out.parent_path().empty() ? fs::path(".") : out.parent_path();
  if (!fs::is_directory(folder))
    throw ConfigError("--out '" + out.string() + "': its folder '" + folder.string() +
                      "' does not exist; create it first or give another --out");
  require_replaceable(out);
  const std::string html = sim::report_html(options.run_dir);
  write_file_atomic(out, html);
  console << "fedglioma: wrote " << out.string() << "\n";
  return out;
}

}  // namespace fedglioma::experiments
