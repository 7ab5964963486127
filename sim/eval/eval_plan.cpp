#include "sim/eval/eval_plan.h"

#include <cstdint>
#include <exception>
#include <map>

#include "models/model.h"
#include "sim/eval/prediction_exchange.h"
#include "sim/workers/executor.h"
#include "sim/processes/processes.h"
#include "sim/state/model_state.h"

namespace fedglioma::sim {
namespace {

using Cases = std::vector<const CasePrediction*>;

void add_cases(EvalPlan& plan, const std::vector<const data::Sample*>& cases, std::size_t model) {
  plan.cases.insert(plan.cases.end(), cases.begin(), cases.end());
  plan.models.insert(plan.models.end(), cases.size(), model);
}

Cases range(const std::vector<CasePrediction>& predictions, std::size_t begin, std::size_t end) {
  Cases out;
  for (std::size_t i = begin; i < end; ++i) out.push_back(&predictions[i]);
  return out;
}

std::map<std::string, EvalSummary> by_site(const Cases& cases, std::uint64_t seed, const MarkerThresholds& thresholds) {
  std::map<std::string, Cases> grouped;
  for (const CasePrediction* p : cases) grouped[p->sample->site].push_back(p);
  std::map<std::string, EvalSummary> out;
  for (const auto& [site, members] : grouped) out[site] = summarize(members, seed, &thresholds);
  return out;
}

// Validation cases' summary, whose own Youden thresholds are the ones chosen on validation.
EvalSummary summarize_val(const Cases& cases, std::uint64_t seed) {
  EvalSummary val = summarize(cases, seed);
  val.at_val_threshold = val.at_youden;
  return val;
}

// The global model's part of the plan.
void summarize_global(const EvalPlan& plan, const std::vector<CasePrediction>& predictions, bool has_test,
                      std::uint64_t seed, RoundEval& e) {
  const Cases val = range(predictions, plan.external_end, plan.val_end);
  e.val = summarize_val(val, seed);
  const MarkerThresholds chosen = youden_thresholds(e.val);
  e.external = summarize(range(predictions, 0, plan.external_end), seed, &chosen);
  if (has_test) e.test = summarize(range(predictions, plan.val_end, plan.global_end), seed, &chosen);
  e.sites = by_site(val, seed, chosen);
}

// The personal part: per client, its model's external, validation and test cases, in that order.
// Local mode (no global part) also fills the pooled blocks from it.
void summarize_personal(const EvalPlan& plan, const Partition& partition, const std::vector<CasePrediction>& predictions,
                        std::uint64_t seed, RoundEval& e) {
  Cases val;
  std::vector<EvalSummary> external_parts, test_parts;
  std::size_t i = plan.global_end;
  for (const Client& client : partition.clients) {
    const Cases ext = range(predictions, i, i + partition.external.size());
    i += partition.external.size();
    const Cases own = range(predictions, i, i + client.val.size());
    i += client.val.size();
    const Cases test = range(predictions, i, i + partition.test.size());
    i += partition.test.size();
    val.insert(val.end(), own.begin(), own.end());
    OwnModelEval& mine = e.personal[client.id];
    mine.val = summarize_val(own, seed);
    const MarkerThresholds chosen = youden_thresholds(mine.val);
    mine.external = summarize(ext, seed, &chosen);
    external_parts.push_back(mine.external);
    test_parts.push_back(summarize(test, seed, &chosen));
  }
  if (plan.covers != EvalModels::kPersonal) return;
  e.external = mean_summary(external_parts);
  e.val = summarize_val(val, seed);
  if (!partition.test.empty()) e.test = mean_summary(test_parts);
  e.sites = by_site(val, seed, youden_thresholds(e.val));
}

}  // namespace

EvalPlan eval_plan(const Partition& partition, EvalModels covers) {
  EvalPlan plan;
  plan.covers = covers;
  if (covers != EvalModels::kPersonal) {
    add_cases(plan, partition.external, kGlobalModel);
    plan.external_end = plan.cases.size();
    for (const Client& c : partition.clients) add_cases(plan, c.val, kGlobalModel);
    plan.val_end = plan.cases.size();
    add_cases(plan, partition.test, kGlobalModel);
    plan.global_end = plan.cases.size();
  }
  if (covers == EvalModels::kGlobal) return plan;
  for (std::size_t k = 0; k < partition.clients.size(); ++k)
    for (const auto* part : {&partition.external, &partition.clients[k].val, &partition.test}) add_cases(plan, *part, k);
  return plan;
}

std::vector<std::string> eval_set_names(const EvalPlan& plan, const Partition& partition) {
  std::vector<std::string> out;
  out.insert(out.end(), plan.external_end, "external");
  out.insert(out.end(), plan.val_end - plan.external_end, "val");
  out.insert(out.end(), plan.global_end - plan.val_end, "test");
  if (plan.covers == EvalModels::kGlobal) return out;
  for (const Client& c : partition.clients) {
    out.insert(out.end(), partition.external.size(), "external");
    out.insert(out.end(), c.val.size(), "val");
    out.insert(out.end(), partition.test.size(), "test");
  }
  return out;
}

std::vector<CasePrediction> predict_plan(const EvalPlan& plan, Executor& executor, const data::SampleStore& store,
                                         const std::function<FlatParams(std::size_t model)>& model_of,
                                         Processes& processes) {
  std::vector<CasePrediction> predictions(plan.cases.size());
  std::vector<std::size_t> mine;  // the positions this process predicts
  for (std::size_t i = 0; i < plan.cases.size(); ++i)
    if (processes.owns(i)) mine.push_back(i);
  constexpr std::size_t kNone = SIZE_MAX - 1;
  std::vector<std::size_t> loaded(executor.size(), kNone);  // per worker: the model it holds
  const auto errors = executor.run(mine.size(), [&](Worker& worker, std::size_t k) {
    const std::size_t i = mine[k];
    if (loaded[worker.index] != plan.models[i]) {
      load_state(*worker.model, model_of(plan.models[i]));
      loaded[worker.index] = plan.models[i];
    }
    predictions[i] = predict_case(worker, *store.fetch(*plan.cases[i]));
    predictions[i].sample = plan.cases[i];  // the store's record, which outlives the fetched voxels
  });
  for (const auto& e : errors)
    if (e) std::rethrow_exception(e);
  if (processes.size() > 1) {
    exchange_predictions(processes, mine, predictions);
    for (std::size_t i = 0; i < plan.cases.size(); ++i) predictions[i].sample = plan.cases[i];
  }
  return predictions;
}

RoundEval summarize_plan(const EvalPlan& plan, const Partition& partition,
                         const std::vector<CasePrediction>& predictions, std::uint64_t seed) {
  RoundEval e;
  if (plan.covers != EvalModels::kPersonal) summarize_global(plan, predictions, !partition.test.empty(), seed, e);
  if (plan.covers != EvalModels::kGlobal) summarize_personal(plan, partition, predictions, seed, e);
  return e;
}

}  // namespace fedglioma::sim
