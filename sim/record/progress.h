#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <mutex>
#include <ostream>

namespace fedglioma::sim {

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
};

}  // namespace fedglioma::sim
