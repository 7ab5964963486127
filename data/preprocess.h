#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <string>

#include "data/dataset.h"
#include "data/manifest.h"
#include "data/volume.h"

namespace fedglioma::data {

/// How a case's images become the network's input (config section `data`).
/// The default network grid (config data.size, data.spacing): 32^3 voxels of 6 mm, 192 mm a side,
/// which holds an adult brain.
inline constexpr std::array<std::int64_t, 3> kDefaultGridSize{32, 32, 32};
inline constexpr std::array<double, 3> kDefaultGridSpacing{6.0, 6.0, 6.0};

struct PreprocessOptions {
  std::array<std::int64_t, 3> size = kDefaultGridSize;  ///< output grid, voxels (i, j, k)
  std::array<double, 3> spacing = kDefaultGridSpacing;  ///< output spacing, mm
  /// When a case's modalities are not on one grid: "error" (a DataError naming both files) or
  /// "resample" (every modality is resampled onto the first one's grid, as for native scans).
  std::string on_mismatch = "error";
  /// Masks as region codes (whole tumour, core, enhancing: data/label_conventions.h) where the
  /// case's label convention has sub-regions (model.segmentation "brats_regions"); otherwise,
  /// and by default, the whole tumour in {0, 1}.
  bool regions = false;
  /// Called, from any thread, with a warning about a case as it is decoded (a skull left on:
  /// data/scan_checks.h); unset: no warnings. Not part of the voxels (nor of the cache's key).
  std::function<void(const std::string&)> warn;
};

/// Where the network's grid lies in the world, and the grid of the case's first image: what
/// writing a result back in the input's original geometry needs.
struct GridMapping {
  Geometry network;   ///< the preprocessed grid (axis-aligned, LPS, target spacing and size)
  Geometry original;  ///< the first modality's grid as read from its file
};

/// Whether `record`'s preprocessed mask holds region codes under `options` (Sample::has_regions).
bool reads_regions(const Case& record, const PreprocessOptions& options);

/// Preprocesses one case: reads the four modalities (and the mask), checks or resamples them
/// onto one grid, then resamples all of them in one step onto the network grid, an axis-aligned
/// (canonical LPS orientation) grid of `size` voxels at `spacing` centred on the brain's bounding
/// box (linear interpolation for images, nearest neighbour for the mask; outside the field of
/// view is background). This is orientation, resampling, cropping to the brain and padding or
/// cropping to the target size at once. Each modality is then clipped to its 1st-99th percentile
/// inside the brain (non-zero voxels of any modality) and z-scored there; the background is 0.
/// Masks: the whole tumour under the record's label convention (data/label_conventions.h; by
/// default binary, or BraTS labels 1, 2, 3, 4, all tumour); a label the convention does not
/// define is a DataError naming the file. A modality of a 4-D file is its Case::channels volume.
/// `mapping`, when given, receives what predict needs to map results back.
Sample preprocess_case(const Case& record, const PreprocessOptions& options, GridMapping* mapping = nullptr);

/// Maps a label volume on the network grid back onto the original grid (nearest neighbour).
MaskVolume to_original_grid(const MaskVolume& network_labels, const GridMapping& mapping);

/// Maps a float volume on the network grid (a probability map) back onto the original grid
/// (linear interpolation; outside the network grid's field of view 0).
FloatVolume to_original_grid(const FloatVolume& network_values, const GridMapping& mapping);

}  // namespace fedglioma::data
