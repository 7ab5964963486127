#pragma once

#include <vector>

#include "core/aggregate.h"
#include "sim/clients/label_counts.h"
#include "sim/state/model_state.h"

namespace fedglioma::sim {

/// Label-aware aggregation (federation.strategy.label_aware). The five public glioma cohorts do
/// not label the same markers, and a client without a marker's labels never trains that marker's
/// head (its loss term is masked), yet a plain FedAvg averages its stale copy of the head in with
/// the client's full sample weight. Here each parameter group is weighted by the client's training
/// cases that train it:
/// - "marker:<m>": the cases labelled for marker m;
/// - "marker_trunk": the cases with at least one marker label;
/// - "encoder" and "mask_decoder": the cases with a whole-tumour mask;
/// - every other parameter and buffer (normalisation statistics, groups of other names): all its
///   training cases, as FedAvg.
/// A group that no client of the round trains keeps the round's starting value (its
/// pseudo-gradient is zero). With every case fully labelled the result is FedAvg's, bit for bit.
class LabelAwareSum {
 public:
  LabelAwareSum(const std::vector<FlatGroup>& groups, std::size_t length);
  void add(const FlatParams& params, double weight, const LabelCounts& labelled);
  /// The weighted mean; groups no client trained take `start`'s values.
  FlatParams mean(const FlatParams& start) const;

 private:
  PartWeightedSum sum_;
};

}  // namespace fedglioma::sim
