#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <vector>

#include "core/aggregate.h"
#include "data/sample_store.h"

#include "sim/evaluation.h"
#include "sim/partition.h"
#include "sim/run_log.h"

namespace fedglioma::sim {

class Executor;
class Processes;

/// Which model predicts which case at each evaluation, in a fixed order. For a global model:
/// external, validation (client by client), test. For personal models (Strategy::personal, local
/// mode), client by client: its model on the external cases, its own validation cases and the
/// test cases.
struct EvalPlan {
  std::vector<const data::Sample*> cases;
  std::vector<std::size_t> models;  ///< per case, the client whose model predicts it (personal plans only)
  std::size_t external_end = 0, val_end = 0;  ///< global plans: where external and validation end
  bool personal = false;
};

EvalPlan eval_plan(const Partition& partition, bool personal = false);

/// The predictions of every case of `plan` (in its order), made on the executor's workers; each
/// worker loads the model `model_of(client)` when its case needs another than the one it holds
/// (global plans: model_of(0), once). Across processes each predicts the cases at positions
/// i % size == rank and every process receives all predictions.
std::vector<CasePrediction> predict_plan(const EvalPlan& plan, Executor& executor, const data::SampleStore& store,
                                         const std::function<FlatParams(std::size_t client)>& model_of,
                                         Processes& processes);

/// The round's evaluation from `plan`'s predictions: summarize_round or summarize_local_round.
RoundEval summarize_plan(const EvalPlan& plan, const Partition& partition,
                         const std::vector<CasePrediction>& predictions, std::uint64_t seed);

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
