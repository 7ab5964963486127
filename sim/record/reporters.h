#pragma once

#include <filesystem>
#include <memory>
#include <ostream>
#include <string>
#include <vector>

#include "sim/record/run_log.h"

namespace fedglioma::sim {

/// One view of a run's rounds, fed plain round records (as google/benchmark's console, JSON and
/// CSV reporters are fed runs). A run calls start() before its first round, round() as each ends
/// (after it is aggregated and evaluated), and finish() once with the whole history, the rounds
/// of earlier processes of a resumed run included. Formats live in sim/record/run_log.h; a reporter
/// decides only when and where each is written.
class Reporter {
 public:
  virtual ~Reporter() = default;
  virtual void start() {}
  virtual void round(const RoundRecord& record) {}
  virtual void finish(const std::vector<RoundRecord>& history, const RunTiming& timing) {}
};

/// rounds.jsonl: a line appended as each round ends (what resume and sweep read back).
std::unique_ptr<Reporter> jsonl_reporter(std::filesystem::path path);
/// The console table: its header at start, a row per round.
std::unique_ptr<Reporter> console_reporter(std::ostream& out);
/// metrics.csv: every evaluated set of every round, flat, written at the end.
std::unique_ptr<Reporter> metrics_csv_reporter(std::filesystem::path path);
/// summary.json (sim/record/run_log.h's summary_json); written after the curves, it marks the
/// run finished (sweep skips a point that has one). `facts.numerics` is read again as the run ends,
/// keeping its threads_per_worker.
std::unique_ptr<Reporter> summary_reporter(std::filesystem::path path, RunFacts facts);

/// What a run folder's reporters need besides the folder.
struct ReporterSettings {
  RunFacts facts;
  bool tensorboard = true;            ///< runtime.tensorboard
  std::vector<RoundRecord> resumed;   ///< the rounds an earlier process logged (resume), which TensorBoard rewrites
};

/// A run folder's reporters, in the order they report: rounds.jsonl, the console, metrics.csv,
/// TensorBoard, roc.csv / calibration.csv / cases.csv, summary.json (report.html comes after
/// them: sim/report/report_reporter.h).
std::vector<std::unique_ptr<Reporter>> run_reporters(const std::filesystem::path& run_dir, std::ostream& console,
                                                     const ReporterSettings& settings);

}  // namespace fedglioma::sim
