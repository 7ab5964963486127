#include "sim/eval_plan.h"

#include <cstdint>
#include <exception>
#include <map>

#include "models/model.h"
#include "sim/exchange.h"
#include "sim/executor.h"
#include "sim/processes.h"
#include "sim/model_state.h"

namespace fedglioma::sim {

EvalPlan eval_plan(const Partition& partition, bool personal) {
  EvalPlan plan;
  plan.personal = personal;
  if (personal) {
    for (std::size_t k = 0; k < partition.clients.size(); ++k)
      for (const auto* part : {&partition.external, &partition.clients[k].val, &partition.test})
        for (const data::Sample* s : *part) {
          plan.cases.push_back(s);
          plan.models.push_back(k);
        }
    return plan;
  }
  plan.cases = partition.external;
  plan.external_end = plan.cases.size();
  for (const Client& c : partition.clients) plan.cases.insert(plan.cases.end(), c.val.begin(), c.val.end());
  plan.val_end = plan.cases.size();
  plan.cases.insert(plan.cases.end(), partition.test.begin(), partition.test.end());
  return plan;
}

RoundEval summarize_round(const EvalPlan& plan, const std::vector<CasePrediction>& predictions, bool has_test,
                          std::uint64_t seed) {
  auto range = [&](std::size_t begin, std::size_t end) {
    std::vector<const CasePrediction*> out;
    for (std::size_t i = begin; i < end; ++i) out.push_back(&predictions[i]);
    return out;
  };
  RoundEval e;
  e.external = summarize(range(0, plan.external_end), seed);
  e.val = summarize(range(plan.external_end, plan.val_end), seed);
  if (has_test) e.test = summarize(range(plan.val_end, predictions.size()), seed);
  std::map<std::string, std::vector<const CasePrediction*>> by_site;
  for (std::size_t i = plan.external_end; i < plan.val_end; ++i) by_site[predictions[i].sample->site].push_back(&predictions[i]);
  for (const auto& [site, cases] : by_site) e.sites[site] = summarize(cases, seed);
  return e;
}

std::vector<CasePrediction> predict_plan(const EvalPlan& plan, Executor& executor, const data::SampleStore& store,
                                         const std::function<FlatParams(std::size_t client)>& model_of,
                                         Processes& processes) {
  std::vector<CasePrediction> predictions(plan.cases.size());
  std::vector<std::size_t> mine;  // the positions this process predicts
  for (std::size_t i = 0; i < plan.cases.size(); ++i)
    if (processes.owns(i)) mine.push_back(i);
  std::vector<std::size_t> loaded(executor.size(), SIZE_MAX);  // per worker: the model it holds
  const auto errors = executor.run(mine.size(), [&](Worker& worker, std::size_t k) {
    const std::size_t i = mine[k];
    const std::size_t model = plan.personal ? plan.models[i] : 0;
    if (loaded[worker.index] != model) {
      load_state(*worker.model, model_of(model));
      loaded[worker.index] = model;
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
  return plan.personal ? summarize_local_round(partition, predictions, seed)
                       : summarize_round(plan, predictions, !partition.test.empty(), seed);
}

// Local mode's evaluation: predictions hold, client by client, its model's external cases, its own
// validation cases and the test cases (the order the round loop builds). The external and test
// sets are summarised per client and averaged; validation is pooled over the clients.
RoundEval summarize_local_round(const Partition& partition, const std::vector<CasePrediction>& predictions,
                                std::uint64_t seed) {
  RoundEval e;
  std::vector<const CasePrediction*> val;
  std::vector<EvalSummary> external_parts, test_parts;
  std::map<std::string, std::vector<const CasePrediction*>> by_site;
  for (std::size_t k = 0, i = 0; k < partition.clients.size(); ++k) {
    std::vector<const CasePrediction*> ext, own_test;
    for (std::size_t j = 0; j < partition.external.size(); ++j) ext.push_back(&predictions[i++]);
    for (std::size_t j = 0; j < partition.clients[k].val.size(); ++j, ++i) {
      val.push_back(&predictions[i]);
      by_site[predictions[i].sample->site].push_back(&predictions[i]);
    }
    for (std::size_t j = 0; j < partition.test.size(); ++j) own_test.push_back(&predictions[i++]);
    external_parts.push_back(summarize(ext, seed));
    e.external_by_client[partition.clients[k].id] = external_parts.back();
    test_parts.push_back(summarize(own_test, seed));
  }
  e.external = mean_summary(external_parts);
  e.val = summarize(val, seed);
  if (!partition.test.empty()) e.test = mean_summary(test_parts);
  for (const auto& [site, cases] : by_site) e.sites[site] = summarize(cases, seed);
  return e;
}

}  // namespace fedglioma::sim
