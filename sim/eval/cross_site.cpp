#include "sim/eval/cross_site.h"

namespace fedglioma::sim {
namespace {

// The models of the matrix's rows, in order.
std::vector<std::size_t> row_models(const Partition& partition, bool with_global) {
  std::vector<std::size_t> models;
  if (with_global) models.push_back(kGlobalModel);
  for (std::size_t i = 0; i < partition.clients.size(); ++i) models.push_back(i);
  return models;
}

}  // namespace

EvalPlan cross_site_plan(const Partition& partition, bool with_global) {
  EvalPlan plan;
  plan.covers = with_global ? EvalModels::kBoth : EvalModels::kPersonal;
  for (std::size_t model : row_models(partition, with_global)) {
    for (const Client& data : partition.clients) {
      plan.cases.insert(plan.cases.end(), data.val.begin(), data.val.end());
      plan.models.insert(plan.models.end(), data.val.size(), model);
    }
    plan.cases.insert(plan.cases.end(), partition.external.begin(), partition.external.end());
    plan.models.insert(plan.models.end(), partition.external.size(), model);
  }
  return plan;
}

std::vector<CrossSiteCell> summarize_cross_site(const Partition& partition, const EvalPlan& plan,
                                                const std::vector<CasePrediction>& predictions, std::uint64_t seed) {
  std::vector<CrossSiteCell> cells;
  std::size_t at = 0;
  auto cell = [&](std::size_t model, std::size_t data, std::size_t n) {
    std::vector<const CasePrediction*> cases;
    for (std::size_t k = 0; k < n; ++k) cases.push_back(&predictions.at(at++));
    cells.push_back({model, data, summarize(cases, seed)});
  };
  for (std::size_t model : row_models(partition, plan.covers == EvalModels::kBoth)) {
    for (std::size_t j = 0; j < partition.clients.size(); ++j) cell(model, j, partition.clients[j].val.size());
    cell(model, kExternalData, partition.external.size());
  }
  return cells;
}

}  // namespace fedglioma::sim
