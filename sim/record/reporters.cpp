#include "sim/record/reporters.h"

#include <set>

#include "core/atomic_file.h"
#include "core/numerics.h"
#include "sim/record/console_table.h"
#include "sim/record/outcome_tables.h"
#include "sim/record/tensorboard.h"

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
  void round(const RoundRecord& record) override {
    print_round_row(out_, record);
    if (record.eval)
      for (const std::string& note : interval_notes("round " + std::to_string(record.round), *record.eval, noted_))
        out_ << "fedglioma: warning: " << note << " (noted once; rounds.jsonl gives the reason for every round and site)\n";
  }

 private:
  std::ostream& out_;
  std::set<std::string> noted_;  // (set, metric) already noted
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
  Summary(fs::path path, RunFacts facts) : path_(std::move(path)), facts_(std::move(facts)) {}
  void finish(const std::vector<RoundRecord>& history, const RunTiming& timing) override {
    RunFacts facts = facts_;
    const int threads = facts.numerics.threads_per_worker;
    facts.numerics = numerics_report();  // as the run ends: what it computed with
    facts.numerics.threads_per_worker = threads;
    write_file_atomic(path_, summary_json(history, timing, facts));
  }

 private:
  fs::path path_;
  RunFacts facts_;
};

}  // namespace

std::unique_ptr<Reporter> jsonl_reporter(fs::path path) { return std::make_unique<Jsonl>(std::move(path)); }
std::unique_ptr<Reporter> console_reporter(std::ostream& out) { return std::make_unique<Console>(out); }
std::unique_ptr<Reporter> metrics_csv_reporter(fs::path path) { return std::make_unique<MetricsCsv>(std::move(path)); }
std::unique_ptr<Reporter> summary_reporter(fs::path path, RunFacts facts) {
  return std::make_unique<Summary>(std::move(path), std::move(facts));
}

std::vector<std::unique_ptr<Reporter>> run_reporters(const fs::path& run_dir, std::ostream& console,
                                                     const ReporterSettings& settings) {
  std::vector<std::unique_ptr<Reporter>> out;
  out.push_back(jsonl_reporter(run_dir / "rounds.jsonl"));
  out.push_back(console_reporter(console));
  out.push_back(metrics_csv_reporter(run_dir / "metrics.csv"));
  if (settings.tensorboard) {
    const SelectionRule rule = settings.facts.rule;
    out.push_back(tensorboard_reporter(run_dir / "tensorboard", settings.resumed,
                                       [rule](const std::vector<RoundRecord>& history) -> std::optional<int> {
                                         const Selection s = select_round(history, rule);
                                         return s.round && s.score ? std::optional<int>(s.round->round) : std::nullopt;
                                       }));
  }
  out.push_back(outcome_tables_reporter(run_dir, settings.facts.rule));
  out.push_back(summary_reporter(run_dir / "summary.json", settings.facts));
  return out;
}

}  // namespace fedglioma::sim
