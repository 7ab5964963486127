#pragma once

#include <filesystem>
#include <ostream>

namespace CLI {
class App;
}

namespace fedglioma::experiments {

/// Flags of `fedglioma report`.
struct ReportOptions {
  std::filesystem::path run_dir;
  std::filesystem::path out;  ///< --out FILE; empty: RUN_DIR/report.html
};

CLI::App* setup_report(CLI::App& app, ReportOptions& options);

/// Writes the self-contained report.html of a finished run (sim/report/report_html.h), atomically.
/// Refuses (ConfigError, nothing written) a folder that is not a finished run folder, an output
/// whose folder does not exist, and an existing output that is not a fedglioma report: a report
/// replaces only an earlier report. Returns the file written.
std::filesystem::path run_report(const ReportOptions& options, std::ostream& console);

}  // namespace fedglioma::experiments
