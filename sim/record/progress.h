#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <mutex>
#include <ostream>
#include <string>

namespace fedglioma::sim {

/// Where a run is, for its progress line.
struct ProgressState {
  int round = 1, first_round = 1, last_round = 1;  ///< the round going, the first of this process, the last
  std::size_t done = 0, clients = 0;               ///< clients of the round finished, and in all
  double elapsed = 0.0;                            ///< seconds since this process's first round began
  double round_elapsed = 0.0;                      ///< seconds since this round began
};

/// The progress line's text: "round 3/20: 2/5 clients trained, 41 s elapsed, eta 230 s". The
/// estimate is the mean time of this process's finished rounds times the rounds left, less what
/// the current round has taken (never negative); none before a round has finished. Once every
/// client of the round has trained it says "aggregating and evaluating", with an estimate for
/// the rounds after this one (none in the last round).
std::string progress_text(const ProgressState& state);

/// The console's progress line during a round ("round 3/20: 2/5 clients trained, 41 s elapsed,
/// eta 230 s"), redrawn in place with carriage returns. Disabled (a no-op) when the console is
/// not a terminal, so logs never hold it. Threads may report finished clients at once.
class RoundProgress {
 public:
  RoundProgress(std::ostream& console, bool enabled, int first_round, int last_round);

  /// A round with `clients` training clients starts.
  void begin(int round, std::size_t clients);
  /// One of them finished (or failed).
  void client_done();
  /// Clears the line before the round's row is printed.
  void end();

 private:
  void draw();

  std::ostream& console_;
  bool enabled_;
  int first_round_, last_round_;
  int round_ = 0;
  std::size_t clients_ = 0;
  std::atomic<std::size_t> done_{0};
  std::mutex mutex_;
  std::chrono::steady_clock::time_point start_ = std::chrono::steady_clock::now();
  std::chrono::steady_clock::time_point round_start_ = start_;
};

}  // namespace fedglioma::sim
