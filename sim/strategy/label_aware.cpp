#include "sim/strategy/label_aware.h"

#include "core/markers.h"
#include "models/model.h"

namespace fedglioma::sim {
namespace {

// Parts of the weighted sum: the groups weighted by masks, by any marker label, then one per
// marker (kMarkers order); everything else is weighted by the training cases.
constexpr std::size_t kMaskPart = 0, kAnyMarkerPart = 1, kFirstMarkerPart = 2;

std::vector<FlatRanges> label_parts(const std::vector<FlatGroup>& groups) {
  std::vector<FlatRanges> parts(kFirstMarkerPart + kMarkers.size());
  auto take = [](FlatRanges& part, const FlatRanges& ranges) { part.insert(part.end(), ranges.begin(), ranges.end()); };
  for (const FlatGroup& g : groups) {
    if (g.name == models::kEncoderGroup || g.name == models::kMaskDecoderGroup) take(parts[kMaskPart], g.ranges);
    if (g.name == models::kMarkerTrunkGroup) take(parts[kAnyMarkerPart], g.ranges);
    for (std::size_t m = 0; m < kMarkers.size(); ++m)
      if (g.name == models::marker_group(kMarkers[m])) take(parts[kFirstMarkerPart + m], g.ranges);
  }
  return parts;
}

}  // namespace

LabelAwareSum::LabelAwareSum(const std::vector<FlatGroup>& groups, std::size_t length)
    : sum_(length, label_parts(groups)) {}

void LabelAwareSum::add(const FlatParams& params, double weight, const LabelCounts& labelled) {
  std::vector<double> weights(kFirstMarkerPart + kMarkers.size() + 1);
  weights[kMaskPart] = static_cast<double>(labelled.masks);
  weights[kAnyMarkerPart] = static_cast<double>(labelled.any_marker);
  for (std::size_t m = 0; m < kMarkers.size(); ++m)
    weights[kFirstMarkerPart + m] = static_cast<double>(labelled.markers[m]);
  weights.back() = weight;
  sum_.add(params, weights);
}

FlatParams LabelAwareSum::mean(const FlatParams& start) const { return sum_.mean(start); }

}  // namespace fedglioma::sim
