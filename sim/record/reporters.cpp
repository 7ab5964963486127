#include "sim/record/reporters.h"

#include "core/atomic_file.h"
#include "core/numerics.h"
#include "sim/record/console_table.h"

namespace fedglioma::sim {
namespace {

namespace fs = std::filesystem;

class Jsonl : public Reporter {
 public:
  explicit Jsonl(fs::path path) : path_(std::move(path)) {}
  void round(const RoundRecord& record) override { append_line(path_, round_json_line(record)); }

 private:
  fs::path path_;
};

class Console : public Reporter {
 public:
  explicit Console(std::ostream& out) : out_(out) {}
  void start() override { print_round_header(out_); }
  void round(const RoundRecord& record) override { print_round_row(out_, record); }

 private:
  std::ostream& out_;
};

class MetricsCsv : public Reporter {
 public:
  explicit MetricsCsv(fs::path path) : path_(std::move(path)) {}
  void finish(const std::vector<RoundRecord>& history, const RunTiming&) override {
    std::string text = metrics_csv_header();
    for (const RoundRecord& r : history) text += metrics_csv_rows(r);
    write_file_atomic(path_, text);
  }

 private:
  fs::path path_;
};

class Summary : public Reporter {
 public:
  Summary(fs::path path, int threads_per_worker, std::vector<std::string> warnings)
      : path_(std::move(path)), threads_per_worker_(threads_per_worker), warnings_(std::move(warnings)) {}
  void finish(const std::vector<RoundRecord>& history, const RunTiming& timing) override {
    NumericsReport numerics = numerics_report();
    numerics.threads_per_worker = threads_per_worker_;
    write_file_atomic(path_, summary_json(history, timing, numerics, warnings_));
  }

 private:
  fs::path path_;
  int threads_per_worker_;
  std::vector<std::string> warnings_;
};

}  // namespace

std::unique_ptr<Reporter> jsonl_reporter(fs::path path) { return std::make_unique<Jsonl>(std::move(path)); }
std::unique_ptr<Reporter> console_reporter(std::ostream& out) { return std::make_unique<Console>(out); }
std::unique_ptr<Reporter> metrics_csv_reporter(fs::path path) { return std::make_unique<MetricsCsv>(std::move(path)); }
std::unique_ptr<Reporter> summary_reporter(fs::path path, int threads_per_worker, std::vector<std::string> warnings) {
  return std::make_unique<Summary>(std::move(path), threads_per_worker, std::move(warnings));
}

std::vector<std::unique_ptr<Reporter>> run_reporters(const fs::path& run_dir, std::ostream& console,
                                                     int threads_per_worker, std::vector<std::string> warnings) {
  std::vector<std::unique_ptr<Reporter>> out;
  out.push_back(jsonl_reporter(run_dir / "rounds.jsonl"));
  out.push_back(console_reporter(console));
  out.push_back(metrics_csv_reporter(run_dir / "metrics.csv"));
  out.push_back(summary_reporter(run_dir / "summary.json", threads_per_worker, std::move(warnings)));
  return out;
}

}  // namespace fedglioma::sim
