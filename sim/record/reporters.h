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
/// summary.json: the final and best rounds, timing, numerics; written last, it marks the run
/// finished (sweep skips a point that has one).
/// `threads_per_worker`: the run's intra-op threads, recorded with the numerics; `warnings`: what
/// the run warned about at its start (summary.json's `warnings`).
std::unique_ptr<Reporter> summary_reporter(std::filesystem::path path, int threads_per_worker,
                                           std::vector<std::string> warnings = {});

/// A run folder's reporters, in the order they report: rounds.jsonl, the console, metrics.csv,
/// summary.json.
std::vector<std::unique_ptr<Reporter>> run_reporters(const std::filesystem::path& run_dir, std::ostream& console,
                                                     int threads_per_worker, std::vector<std::string> warnings = {});

}  // namespace fedglioma::sim
