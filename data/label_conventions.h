#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace fedglioma::data {

/// What a segmentation's label values mean in one dataset release, and which of them are tumour.
/// The whole tumour is what the study segments; a label a convention does not define is an error
/// (a 2021 mask read as 2023 would hold a 4), never a silent background or tumour.
struct LabelConvention {
  std::string name;                 ///< the manifest's "label_convention" value
  std::string meaning;              ///< the labels, as the release documents them
  std::vector<std::uint8_t> labels; ///< the non-zero labels a mask may hold
  std::vector<std::uint8_t> tumour; ///< the labels that are whole tumour
  std::vector<std::uint8_t> core;   ///< the labels that are tumour core; empty: the sub-regions are unknown
  std::vector<std::uint8_t> enhancing; ///< the labels that are enhancing tumour

  bool defines(std::uint8_t label) const;
  bool is_tumour(std::uint8_t label) const;
  /// Whether the labels tell the tumour's sub-regions apart (every BraTS release and MSD's; not
  /// binary masks, nor "", where a 1 may be a binary mask's tumour or BraTS's necrosis).
  bool has_regions() const { return !core.empty(); }
};

/// The BraTS evaluation regions as bits of a region code (model.segmentation "brats_regions"):
/// whole tumour, tumour core (whole tumour without the oedema), enhancing tumour. They nest, so
/// a voxel's code is 0, 1, 3 or 7.
inline constexpr std::uint8_t kWholeTumourBit = 1, kTumourCoreBit = 2, kEnhancingBit = 4;
inline constexpr const char* kRegionNames[3] = {"wt", "tc", "et"};

/// Every convention: "" (any of 1-4 is tumour: binary masks and BraTS up to 2023), binary,
/// brats2021 (1 NCR/NET, 2 ED, 4 ET), brats2023 (1 NCR, 2 ED, 3 ET), brats2024 (post-treatment:
/// 1 NETC, 2 SNFH, 3 ET, 4 RC, the resection cavity, which is not tumour), msd (Decathlon Task01:
/// 1 edema, 2 non-enhancing tumour, 3 enhancing tumour).
const std::vector<LabelConvention>& label_conventions();

/// The convention named `name`; DataError listing the names when there is none.
const LabelConvention& label_convention(const std::string& name);

/// The whole-tumour mask (0/1) of `labels` under `convention`; DataError naming `what` and the
/// first label the convention does not define.
std::vector<std::uint8_t> whole_tumour(const std::vector<std::uint8_t>& labels, const LabelConvention& convention,
                                       const std::string& what);

/// The BraTS 2023 label of a predicted region code: 3 enhancing tumour, else 1 (necrotic) core,
/// else 2 oedema (whole tumour only), else 0. The regions are predicted independently; this order
/// (enhancing over core over whole tumour) is nnU-Net's for BraTS region predictions.
inline std::uint8_t brats2023_label(std::uint8_t code) {
  if (code & kEnhancingBit) return 3;
  if (code & kTumourCoreBit) return 1;
  return (code & kWholeTumourBit) ? 2 : 0;
}

/// The region code (kWholeTumourBit | kTumourCoreBit | kEnhancingBit) of each voxel of `labels`
/// under `convention`, which must have sub-regions (has_regions); DataError as for whole_tumour.
std::vector<std::uint8_t> tumour_regions(const std::vector<std::uint8_t>& labels, const LabelConvention& convention,
                                         const std::string& what);

/// The voxels of region codes `codes` (tumour_regions) that hold `bit` (kTumourCoreBit, ...), as 0/1.
std::vector<std::uint8_t> region_mask(const std::vector<std::uint8_t>& codes, std::uint8_t bit);

}  // namespace fedglioma::data
