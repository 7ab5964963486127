#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "sim/evaluation.h"
#include "sim/partition.h"
#include "sim/run_log.h"

namespace fedglioma::sim {

/// The cases the global model is evaluated on each time, in a fixed order: external, validation
/// (client by client), test.
struct EvalPlan {
  std::vector<const data::Sample*> cases;
  std::size_t external_end = 0, val_end = 0;
};

EvalPlan eval_plan(const Partition& partition);

/// A round's evaluation from the predictions of `plan`'s cases (in its order): the external,
/// pooled validation and (when `has_test`) test summaries, and one per site's validation cases.
RoundEval summarize_round(const EvalPlan& plan, const std::vector<CasePrediction>& predictions, bool has_test,
                          std::uint64_t seed);

/// Local mode's evaluation: predictions hold, client by client, its model's external cases, its own
/// validation cases and the test cases. The external and test sets are summarised per client and
/// averaged; validation is pooled over the clients.
RoundEval summarize_local_round(const Partition& partition, const std::vector<CasePrediction>& predictions,
                                std::uint64_t seed);

}  // namespace fedglioma::sim
