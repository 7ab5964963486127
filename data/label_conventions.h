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

  bool defines(std::uint8_t label) const;
  bool is_tumour(std::uint8_t label) const;
};

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

}  // namespace fedglioma::data
