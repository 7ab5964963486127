#include "sim/clients/label_counts.h"

namespace fedglioma::sim {

LabelCounts label_counts(const std::vector<const data::Sample*>& cases) {
  LabelCounts counts;
  for (const data::Sample* c : cases) {
    if (c->has_mask) ++counts.masks;
    bool any = false;
    for (std::size_t m = 0; m < counts.markers.size(); ++m)
      if (c->labels.binary(m)) {
        ++counts.markers[m];
        any = true;
      }
    if (any) ++counts.any_marker;
  }
  return counts;
}

}  // namespace fedglioma::sim
