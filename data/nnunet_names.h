#pragma once

#include <cstdio>
#include <string>

namespace fedglioma::data {

/// nnU-Net raw datasets' file names: images `{case}_{XXXX}{ending}` (XXXX the channel, 4 digits),
/// labels `{case}{ending}`. The reader (data/layouts/nnunet.cpp) and export-nnunet share them.
inline std::string nnunet_image_name(const std::string& case_id, int channel, const std::string& ending) {
  char digits[16];
  std::snprintf(digits, sizeof digits, "_%04d", channel);
  return case_id + digits + ending;
}

inline std::string nnunet_label_name(const std::string& case_id, const std::string& ending) { return case_id + ending; }

}  // namespace fedglioma::data
