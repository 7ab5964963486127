#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <vector>

#include "core/aggregate.h"
#include "data/sample_store.h"

#include "sim/eval/evaluation.h"
#include "sim/clients/partition.h"
#include "sim/eval/round_eval.h"

namespace fedglioma::sim {

class Executor;
class Processes;

/// Which models an evaluation covers: the global model; each client's own model (local mode);
/// or both (personalising strategies: the global model serves unseen sites, each site deploys
/// its own).
enum class EvalModels { kGlobal, kPersonal, kBoth };

/// EvalPlan::models of a case that the global model predicts.
inline constexpr std::size_t kGlobalModel = SIZE_MAX;

/// Which model predicts which case at each evaluation, in a fixed order: first the global model's
/// part (external, validation client by client, test), then the personal part, client by client:
/// its model on the external cases, its own validation cases and the test cases.
struct EvalPlan {
  std::vector<const data::Sample*> cases;
  std::vector<std::size_t> models;  ///< per case: kGlobalModel or the client whose model predicts it
  std::size_t external_end = 0, val_end = 0, global_end = 0;  ///< the global part: [0, global_end)
  EvalModels covers = EvalModels::kGlobal;
};

EvalPlan eval_plan(const Partition& partition, EvalModels covers = EvalModels::kGlobal);

/// The evaluation set of each case of `plan`, in its order: "external", "val" or "test" (for the
/// personal part too: a client's model on the external cases, its own validation cases, the test cases).
std::vector<std::string> eval_set_names(const EvalPlan& plan, const Partition& partition);

/// The predictions of every case of `plan` (in its order), made on the executor's workers; each
/// worker loads the model `model_of(plan.models[i])` (kGlobalModel: the global one) when its case
/// needs another than the one it holds. Across processes each predicts the cases at positions
/// i % size == rank and every process receives all predictions.
std::vector<CasePrediction> predict_plan(const EvalPlan& plan, Executor& executor, const data::SampleStore& store,
                                         const std::function<FlatParams(std::size_t model)>& model_of,
                                         Processes& processes);

/// The round's evaluation from `plan`'s predictions. The global part: the external, pooled
/// validation and (when `partition` has one) test summaries, and one per site's validation cases.
/// The personal part: each site's own model on its validation cases and on the external set
/// (RoundEval::personal). Local mode, which has no global model worth evaluating, reports as
/// `external` the mean of the local models' external summaries, as `test` the mean of their test
/// summaries, and pools the local models' validation cases as `val` and `sites`.
RoundEval summarize_plan(const EvalPlan& plan, const Partition& partition,
                         const std::vector<CasePrediction>& predictions, std::uint64_t seed);

}  // namespace fedglioma::sim
