#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "data/manifest.h"
#include "data/volume.h"

namespace fedglioma::data {

/// One case as the network sees it: the four modalities z-scored inside the head, channel-major
/// (channel, k, j, i), and the binary whole-tumour mask, on the grid of the case's images.
struct Sample {
  std::string id;
  std::string site;
  std::string split;
  Labels labels;
  Geometry geometry;
  std::vector<float> image;        ///< 4 * voxel_count values
  std::vector<std::uint8_t> mask;  ///< voxel_count values in {0, 1}; empty when no mask
};

/// Loads and normalises one case. The four images must share one grid (and the mask too), of
/// `expected_size` voxels. Each modality is clipped to its 1st-99th percentile inside the
/// foreground (non-zero voxels of any modality) and z-scored there; the background is 0. Masks:
/// binary, or BraTS labels {1, 2, 3, 4} all mapped to whole tumour. Throws DataError naming the
/// case and file.
Sample load_sample(const Case& record, const std::array<std::int64_t, 3>& expected_size);

/// Loads `records` on up to `threads` threads, in the given order.
std::vector<Sample> load_samples(const std::vector<const Case*>& records,
                                 const std::array<std::int64_t, 3>& expected_size, int threads);

}  // namespace fedglioma::data
