#include "sim/record/progress.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <string>

namespace fedglioma::sim {

RoundProgress::RoundProgress(std::ostream& console, bool enabled, int first_round, int last_round)
    : console_(console), enabled_(enabled), first_round_(first_round), last_round_(last_round) {}

std::string progress_text(const ProgressState& s) {
  const int finished = s.round - s.first_round;
  const double per_round = finished > 0 ? (s.elapsed - s.round_elapsed) / finished : 0.0;
  const bool trained = s.clients > 0 && s.done >= s.clients;
  const double left = trained ? per_round * (s.last_round - s.round)
                              : std::max(0.0, per_round * (s.last_round - s.round + 1) - s.round_elapsed);
  std::string eta;
  if (per_round > 0 && (!trained || s.round < s.last_round)) eta = ", eta " + std::to_string(std::lround(left)) + " s";
  char line[200];
  std::snprintf(line, sizeof line, "round %d/%d: %zu/%zu clients trained%s, %.0f s elapsed%s", s.round, s.last_round,
                s.done, s.clients, trained ? ", aggregating and evaluating" : "", s.elapsed, eta.c_str());
  return line;
}

void RoundProgress::begin(int round, std::size_t clients) {
  round_start_ = std::chrono::steady_clock::now();
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
  if (enabled_) console_ << "\r" << std::string(120, ' ') << "\r" << std::flush;
}

void RoundProgress::draw() {
  if (!enabled_) return;
  std::lock_guard<std::mutex> lock(mutex_);
  const auto now = std::chrono::steady_clock::now();
  ProgressState state{round_, first_round_, last_round_, done_.load(), clients_,
                      std::chrono::duration<double>(now - start_).count(),
                      std::chrono::duration<double>(now - round_start_).count()};
  console_ << "\r" << progress_text(state) << "   " << std::flush;
}

}  // namespace fedglioma::sim
