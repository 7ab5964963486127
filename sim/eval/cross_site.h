#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "sim/eval/eval_plan.h"

namespace fedglioma::sim {

/// The cross-site matrix of a run whose clients deploy models of their own (local mode,
/// personalising strategies, fine-tuning): the model of client i evaluated on the validation cases
/// of client j, for every pair. Its diagonal is each model on its own validation cases, which is
/// RoundEval::personal's `val`.
struct CrossSiteCell {
  std::size_t model = 0, data = 0;  ///< client indices
  EvalSummary summary;
};

/// The plan: client i's model on client j's validation cases, i-major.
EvalPlan cross_site_plan(const Partition& partition);

/// One cell per (model, data) pair, in the plan's order.
std::vector<CrossSiteCell> summarize_cross_site(const Partition& partition,
                                                const std::vector<CasePrediction>& predictions, std::uint64_t seed);

}  // namespace fedglioma::sim
