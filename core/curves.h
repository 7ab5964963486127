#pragma once

#include <cstddef>
#include <optional>
#include <vector>

namespace fedglioma {

/// One point of a ROC curve: a case is called positive when its score >= threshold.
struct RocPoint {
  double threshold = 0.0;  ///< +infinity for the first point (nothing called positive)
  double fpr = 0.0, tpr = 0.0;
};

/// The ROC curve of `scores` against binary `labels` (0/1), every point kept: the thresholds are
/// +inf and then the distinct scores, decreasing, as scikit-learn's
/// roc_curve(drop_intermediate=False) (whose first threshold is max + 1 before version 1.3 and
/// +inf since). Empty when the labels hold fewer than two classes.
std::vector<RocPoint> roc_curve(const std::vector<double>& scores, const std::vector<int>& labels);

/// One bin of a reliability diagram over [0, 1].
struct CalibrationBin {
  int bin = 0;                         ///< 0 .. bins-1
  double lower = 0.0, upper = 0.0;     ///< the bin's edges; a score equal to an inner edge falls in the lower bin
  std::size_t n = 0;                   ///< cases in the bin (never 0: empty bins are left out)
  double mean_predicted = 0.0;         ///< mean score of its cases
  double fraction_positive = 0.0;      ///< share of its cases that are positive
};

/// The reliability diagram of `scores` (probabilities in [0, 1]) against binary `labels` in
/// `bins` uniform bins, as scikit-learn's calibration_curve(strategy="uniform", n_bins=bins):
/// edges linspace(0, 1, bins + 1), a score's bin the number of inner edges below it, empty bins
/// left out. Empty when there are no cases.
std::vector<CalibrationBin> calibration_bins(const std::vector<double>& scores, const std::vector<int>& labels,
                                             int bins = 10);

/// The Brier score, mean (score - label)^2 (scikit-learn's brier_score_loss); nullopt when empty.
std::optional<double> brier_score(const std::vector<double>& scores, const std::vector<int>& labels);

/// The expected calibration error over `bins` uniform bins (those of calibration_bins):
/// sum over bins of n_bin / n * |fraction_positive - mean_predicted|; nullopt when empty.
std::optional<double> expected_calibration_error(const std::vector<double>& scores, const std::vector<int>& labels,
                                                 int bins = 10);

}  // namespace fedglioma
