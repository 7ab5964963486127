#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace fedglioma {

/// Dice overlap of two binary masks of `n` voxels (non-zero = foreground), with the BraTS
/// convention for empty masks: both empty -> 1, exactly one empty -> 0.
double dice(const std::uint8_t* prediction, const std::uint8_t* truth, std::size_t n);

/// HD95 value used by BraTS when exactly one of the two masks is empty (millimetres).
inline constexpr double kHd95OneEmpty = 373.12866;

/// 95th-percentile symmetric Hausdorff distance, in millimetres, between the surfaces of two
/// binary masks on a grid of `size` voxels (x fastest) with `spacing` in mm. Distances are
/// exact Euclidean distances from each surface voxel of one mask to the nearest surface voxel of
/// the other. Both empty -> 0; exactly one empty -> kHd95OneEmpty (BraTS conventions).
double hd95(const std::uint8_t* prediction, const std::uint8_t* truth,
            const std::array<std::int64_t, 3>& size, const std::array<double, 3>& spacing);

/// Area under the ROC curve of `scores` against binary `labels` (0/1), computed as the
/// Mann-Whitney statistic with ties counted one half (equal to scikit-learn's roc_auc_score).
/// Returns nullopt when the labels hold fewer than two classes.
std::optional<double> roc_auc(const std::vector<double>& scores, const std::vector<int>& labels);

/// A two-sided confidence interval.
struct Interval {
  double lower = 0.0, upper = 0.0;
};

/// 95% confidence interval of the ROC AUC by DeLong et al. (1988): the variance of the
/// Mann-Whitney AUC from the structural components (placement values) of the positives and
/// negatives, AUC +- 1.96 sd, clipped to [0, 1]. nullopt with fewer than two cases of either class.
std::optional<Interval> auc_ci_delong(const std::vector<double>& scores, const std::vector<int>& labels);

/// 95% confidence interval of the ROC AUC by stratified bootstrap: positives and negatives are
/// resampled separately with replacement (so every resample has both classes), `resamples`
/// times, from a generator seeded with `seed`; the 2.5th and 97.5th percentiles (linear
/// interpolation, as numpy's default). nullopt with fewer than two cases of either class (one
/// positive resamples to itself: the interval would only show the other class's spread).
std::optional<Interval> auc_ci_bootstrap(const std::vector<double>& scores, const std::vector<int>& labels,
                                         int resamples, std::uint64_t seed);

/// 95% percentile-bootstrap interval of the mean of `values` (resampled with replacement
/// `resamples` times from a generator seeded with `seed`; percentiles as auc_ci_bootstrap).
/// nullopt with fewer than two values or when every value is the same (no spread to resample).
std::optional<Interval> mean_ci_bootstrap(const std::vector<double>& values, int resamples, std::uint64_t seed);

/// Why an AUC of `positives` and `negatives` cases has no 95% interval (DeLong and the stratified
/// bootstrap both need two of each class), or nullopt when it can have one.
std::optional<std::string> auc_interval_missing(std::size_t positives, std::size_t negatives);

/// One-vs-rest ROC AUC of each class of a `classes`-class problem: `scores[i][c]` is case i's
/// probability of class c, `labels[i]` its class in [0, classes); entry c is
/// roc_auc(scores[:, c], labels == c), nullopt when class c does not occur (or is all there is).
std::vector<std::optional<double>> roc_auc_one_vs_rest(const std::vector<std::vector<double>>& scores,
                                                       const std::vector<int>& labels, int classes);

/// Macro-averaged one-vs-rest ROC AUC of a `classes`-class problem: `scores[i][c]` is case i's
/// probability of class c, `labels[i]` its class in [0, classes). The unweighted mean over
/// classes of roc_auc(scores[:, c], labels == c), as scikit-learn's
/// roc_auc_score(multi_class="ovr", average="macro"). nullopt unless every class occurs (where
/// scikit-learn raises).
std::optional<double> roc_auc_ovr_macro(const std::vector<std::vector<double>>& scores, const std::vector<int>& labels,
                                        int classes);

/// 95% interval of roc_auc_ovr_macro by stratified bootstrap (each class resampled separately,
/// class 0 first), as auc_ci_bootstrap. nullopt unless every class occurs.
std::optional<Interval> auc_ovr_macro_ci_bootstrap(const std::vector<std::vector<double>>& scores,
                                                   const std::vector<int>& labels, int classes, int resamples,
                                                   std::uint64_t seed);

/// Sensitivity, specificity and balanced accuracy when a score >= `threshold` predicts positive.
struct ThresholdRates {
  double threshold = 0.5;
  double sensitivity = 0.0, specificity = 0.0, balanced_accuracy = 0.0;
};

/// The rates at `threshold`; nullopt when the labels hold fewer than two classes.
std::optional<ThresholdRates> rates_at(const std::vector<double>& scores, const std::vector<int>& labels,
                                       double threshold);

/// The rates at the threshold that maximises Youden's J = sensitivity + specificity - 1 over the
/// thresholds of the ROC curve (the distinct scores, as scikit-learn's roc_curve; the highest
/// such threshold when several reach the maximum). nullopt with fewer than two classes.
std::optional<ThresholdRates> youden(const std::vector<double>& scores, const std::vector<int>& labels);

/// Median of `values` (mean of the two middle values for an even count); nullopt when empty.
std::optional<double> median(std::vector<double> values);

/// Arithmetic mean of `values`; nullopt when empty.
std::optional<double> mean(const std::vector<double>& values);

}  // namespace fedglioma
