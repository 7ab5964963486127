#pragma once

#include <array>
#include <cstddef>
#include <vector>

#include "data/dataset.h"

namespace fedglioma::sim {

/// How many of a client's training cases label each task: label-aware aggregation's weights. A
/// static fact of the client, counted once per run with its partition (Client::labelled).
struct LabelCounts {
  std::size_t masks = 0;       ///< cases with a whole-tumour mask
  std::size_t any_marker = 0;  ///< cases with at least one marker label
  std::array<std::size_t, 4> markers{};  ///< cases labelled for each marker, kMarkers order

  bool operator==(const LabelCounts& o) const {
    return masks == o.masks && any_marker == o.any_marker && markers == o.markers;
  }
};

LabelCounts label_counts(const std::vector<const data::Sample*>& cases);

}  // namespace fedglioma::sim
