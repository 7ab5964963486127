#include "core/curves.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

namespace fedglioma {

std::vector<RocPoint> roc_curve(const std::vector<double>& scores, const std::vector<int>& labels) {
  const auto positives = static_cast<double>(std::count(labels.begin(), labels.end(), 1));
  const double negatives = static_cast<double>(labels.size()) - positives;
  if (positives == 0 || negatives == 0) return {};
  std::vector<std::size_t> order(scores.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return scores[a] > scores[b]; });
  std::vector<RocPoint> curve = {{std::numeric_limits<double>::infinity(), 0.0, 0.0}};
  double tp = 0, fp = 0;
  for (std::size_t k = 0; k < order.size(); ++k) {
    (labels[order[k]] == 1 ? tp : fp) += 1;
    // One point per distinct score, after every case with that score is counted.
    if (k + 1 == order.size() || scores[order[k + 1]] != scores[order[k]])
      curve.push_back({scores[order[k]], fp / negatives, tp / positives});
  }
  return curve;
}

std::vector<CalibrationBin> calibration_bins(const std::vector<double>& scores, const std::vector<int>& labels,
                                             int bins) {
  std::vector<double> edges(static_cast<std::size_t>(bins) + 1);
  for (int i = 0; i <= bins; ++i) edges[static_cast<std::size_t>(i)] = i * (1.0 / bins);  // numpy's linspace
  edges.back() = 1.0;
  std::vector<double> sum_score(static_cast<std::size_t>(bins), 0.0), sum_label(static_cast<std::size_t>(bins), 0.0);
  std::vector<std::size_t> count(static_cast<std::size_t>(bins), 0);
  for (std::size_t i = 0; i < scores.size(); ++i) {
    // numpy.searchsorted(edges[1:-1], score, side="left"): the inner edges strictly below the score.
    const auto b = static_cast<std::size_t>(std::lower_bound(edges.begin() + 1, edges.end() - 1, scores[i]) -
                                            (edges.begin() + 1));
    sum_score[b] += scores[i];
    sum_label[b] += labels[i];
    ++count[b];
  }
  std::vector<CalibrationBin> out;
  for (std::size_t b = 0; b < count.size(); ++b) {
    if (count[b] == 0) continue;
    const auto n = static_cast<double>(count[b]);
    out.push_back({static_cast<int>(b), edges[b], edges[b + 1], count[b], sum_score[b] / n, sum_label[b] / n});
  }
  return out;
}

std::optional<double> brier_score(const std::vector<double>& scores, const std::vector<int>& labels) {
  if (scores.empty()) return std::nullopt;
  double sum = 0;
  for (std::size_t i = 0; i < scores.size(); ++i) sum += (scores[i] - labels[i]) * (scores[i] - labels[i]);
  return sum / static_cast<double>(scores.size());
}

std::optional<double> expected_calibration_error(const std::vector<double>& scores, const std::vector<int>& labels,
                                                 int bins) {
  if (scores.empty()) return std::nullopt;
  double ece = 0;
  for (const CalibrationBin& b : calibration_bins(scores, labels, bins))
    ece += static_cast<double>(b.n) / static_cast<double>(scores.size()) * std::abs(b.fraction_positive - b.mean_predicted);
  return ece;
}

}  // namespace fedglioma
