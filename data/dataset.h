#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "data/manifest.h"
#include "data/volume.h"

namespace fedglioma::data {

/// One case as the network sees it: the four modalities z-scored inside the brain,
/// channel-major (channel, k, j, i), and the mask, on the network grid (see preprocess_case).
struct Sample {
  std::string id;
  std::string patient;  ///< Case::patient_id(): the cases partitioning keeps together
  std::string site;
  std::string split;
  Labels labels;
  Geometry geometry;
  std::vector<float> image;        ///< 4 * voxel_count values
  /// voxel_count values: whole tumour in {0, 1}; with PreprocessOptions::regions and a label
  /// convention that has sub-regions, region codes (data/label_conventions.h: 0, 1, 3, 7) instead;
  /// empty when no mask
  std::vector<std::uint8_t> mask;
  bool has_mask = false;     ///< whether the case has a mask (kept when `mask` is not in memory)
  bool has_regions = false;  ///< whether `mask` holds region codes (kept when `mask` is not in memory)
  /// Content hash of what training sees (voxels, mask, labels, grid): set by load_samples, kept
  /// by streaming stores, compared on resume so that regenerated data under the same ids is seen.
  std::uint64_t fingerprint = 0;
};

/// The fingerprint of `sample`'s voxels, mask, labels and geometry (see Sample::fingerprint).
std::uint64_t sample_fingerprint(const Sample& sample);

}  // namespace fedglioma::data
