#include "sim/eval/cross_site.h"


namespace fedglioma::sim {

EvalPlan cross_site_plan(const Partition& partition) {
  EvalPlan plan;
  plan.covers = EvalModels::kPersonal;
  for (std::size_t i = 0; i < partition.clients.size(); ++i)
    for (const Client& data : partition.clients) {
      plan.cases.insert(plan.cases.end(), data.val.begin(), data.val.end());
      plan.models.insert(plan.models.end(), data.val.size(), i);
    }
  return plan;
}

std::vector<CrossSiteCell> summarize_cross_site(const Partition& partition,
                                                const std::vector<CasePrediction>& predictions, std::uint64_t seed) {
  std::vector<CrossSiteCell> cells;
  std::size_t at = 0;
  for (std::size_t i = 0; i < partition.clients.size(); ++i)
    for (std::size_t j = 0; j < partition.clients.size(); ++j) {
      std::vector<const CasePrediction*> cases;
      for (std::size_t k = 0; k < partition.clients[j].val.size(); ++k) cases.push_back(&predictions.at(at++));
      cells.push_back({i, j, summarize(cases, seed)});
    }
  return cells;
}

}  // namespace fedglioma::sim
