#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "sim/eval/eval_plan.h"

namespace fedglioma::sim {

/// CrossSiteCell::data of the external set's column.
inline constexpr std::size_t kExternalData = SIZE_MAX;

/// The cross-site matrix of a run whose clients deploy models of their own (local mode,
/// personalising strategies, fine-tuning): the model of client i evaluated on the validation cases
/// of client j, for every pair, and on the external set; with a global model (personalising
/// strategies, fine-tuning; not local mode) its row first. Its diagonal is each model on its own
/// validation cases, which is RoundEval::personal's `val`.
struct CrossSiteCell {
  std::size_t model = 0;  ///< client index, or kGlobalModel
  std::size_t data = 0;   ///< client index (its validation cases), or kExternalData
  EvalSummary summary;
};

/// The plan: model-major (the global model first when `with_global`), each model on every
/// client's validation cases and then on the external set.
EvalPlan cross_site_plan(const Partition& partition, bool with_global = false);

/// One cell per (model, data) pair, in the plan's order.
std::vector<CrossSiteCell> summarize_cross_site(const Partition& partition, const EvalPlan& plan,
                                                const std::vector<CasePrediction>& predictions, std::uint64_t seed);

}  // namespace fedglioma::sim
