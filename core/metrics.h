#pragma once

#include <array>
#include <cstdint>
#include <optional>
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

/// Median of `values` (mean of the two middle values for an even count); nullopt when empty.
std::optional<double> median(std::vector<double> values);

/// Arithmetic mean of `values`; nullopt when empty.
std::optional<double> mean(const std::vector<double>& values);

}  // namespace fedglioma
