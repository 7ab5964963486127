#include "sim/record/progress.h"

#include <cmath>
#include <cstdio>
#include <string>

namespace fedglioma::sim {

RoundProgress::RoundProgress(std::ostream& console, bool enabled, int first_round, int last_round)
    : console_(console), enabled_(enabled), first_round_(first_round), last_round_(last_round) {}

void RoundProgress::begin(int round, std::size_t clients) {
  round_ = round;
  clients_ = clients;
  done_ = 0;
  draw();
}

void RoundProgress::client_done() {
  ++done_;
  draw();
}

void RoundProgress::end() {
  if (enabled_) console_ << "\r" << std::string(90, ' ') << "\r" << std::flush;
}

void RoundProgress::draw() {
  if (!enabled_) return;
  std::lock_guard<std::mutex> lock(mutex_);
  const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  const int rounds_before = round_ - first_round_;
  const double per_round = rounds_before > 0 ? elapsed / rounds_before : 0.0;
  std::string eta;
  if (per_round > 0) eta = ", eta " + std::to_string(std::lround(per_round * (last_round_ - round_ + 1))) + " s";
  char line[160];
  std::snprintf(line, sizeof line, "\rround %d/%d: %zu/%zu clients trained, %.0f s elapsed%s", round_, last_round_,
                done_.load(), clients_, elapsed, eta.c_str());
  console_ << line << "   " << std::flush;
}

}  // namespace fedglioma::sim
