#pragma once

#include <array>

namespace fedglioma {

/// The four MRI modalities, in the network's channel order.
inline constexpr std::array<const char*, 4> kModalities = {"t1", "t1c", "t2", "flair"};

/// The markers predicted by the network, in the order of its marker logits. Grade is predicted
/// as high (WHO 4) versus low (WHO 2-3), the BraTS HGG/LGG split. Data, models and reports all
/// read the list from here.
inline constexpr std::array<const char*, 4> kMarkers = {"idh", "codeletion_1p19q", "mgmt", "grade"};

}  // namespace fedglioma
