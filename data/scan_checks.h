#pragma once

#include <array>
#include <filesystem>
#include <optional>
#include <string>

#include "data/volume.h"

// What the scans show, checked before fedglioma resamples them: modalities that are not
// co-registered (refused) and a skull left on (a warning).

namespace fedglioma::data {

/// How far apart (mm, world coordinates) two modalities' head centres may lie and still count as
/// co-registered. Co-registered scans agree within a few millimetres; the native, not
/// co-registered TCGA-FG-6692 series in ../shared/data lie 18 mm apart.
inline constexpr double kCoregistrationToleranceMm = 10.0;

/// The centre (LPS world coordinates, mm) of `image`'s head: the mean position of its voxels
/// brighter than a tenth of the 99th percentile of its non-zero voxels (the background noise of a
/// native scan stays below that). All zero: the image's centre.
std::array<double, 3> head_centre(const FloatVolume& image);

/// Refuses modalities that are not co-registered: each modality's head centre more than
/// kCoregistrationToleranceMm from the first's. Resampling such scans onto one grid would put
/// different anatomy on one voxel (the T1 at the orbits beside the FLAIR at the ventricles); the
/// DataError names the case, both files and the distance, and asks to co-register them.
void check_coregistered(const std::array<FloatVolume, 4>& images, const std::array<std::filesystem::path, 4>& files,
                        const std::string& where);

/// A skull-stripped adult brain spans at most about 150 mm left to right and 190 mm front to
/// back; a head with its skull and scalp spans more. The skull check's limits, with a margin.
inline constexpr double kBrainMaxWidthMm = 160.0, kBrainMaxLengthMm = 200.0;

/// The extent (mm) of `image`'s head (the voxels head_centre counts) along the world's x (left-
/// right) and y (front-back) axes.
std::array<double, 2> head_extent(const FloatVolume& image);

/// A warning naming `file` when its head is wider than kBrainMaxWidthMm or longer than
/// kBrainMaxLengthMm (the skull was likely left on: the models expect skull-stripped scans, as
/// BraTS ships them); nullopt otherwise. A heuristic: it warns, never refuses.
std::optional<std::string> skull_warning(const FloatVolume& image, const std::filesystem::path& file);

}  // namespace fedglioma::data
