#include "sim/eval/fairness.h"

#include <algorithm>
#include <cmath>

namespace fedglioma::sim {

Spread spread(const std::vector<std::optional<double>>& values) {
  Spread s;
  std::vector<double> defined;
  for (const auto& v : values) {
    if (v) defined.push_back(*v);
    else ++s.undefined;
  }
  s.defined = defined.size();
  if (defined.empty()) return s;
  s.worst = *std::min_element(defined.begin(), defined.end());
  s.best = *std::max_element(defined.begin(), defined.end());
  if (defined.size() < 2) return s;
  double mean = 0.0;
  for (double x : defined) mean += x;
  mean /= static_cast<double>(defined.size());
  double squares = 0.0;
  for (double x : defined) squares += (x - mean) * (x - mean);
  s.sd = std::sqrt(squares / static_cast<double>(defined.size() - 1));
  return s;
}

Fairness fairness(const std::vector<const EvalSummary*>& sites) {
  Fairness f;
  std::vector<std::optional<double>> dice;
  std::array<std::vector<std::optional<double>>, 4> auc;
  for (const EvalSummary* s : sites) {
    dice.push_back(s->dice_mean);
    for (std::size_t m = 0; m < auc.size(); ++m) auc[m].push_back(s->auc[m]);
  }
  f.dice = spread(dice);
  for (std::size_t m = 0; m < auc.size(); ++m) f.auc[m] = spread(auc[m]);
  return f;
}

RoundFairness round_fairness(const RoundEval& eval) {
  RoundFairness f;
  std::vector<const EvalSummary*> sites, own;
  for (const auto& [site, summary] : eval.sites) sites.push_back(&summary);
  for (const auto& [client, mine] : eval.personal) own.push_back(&mine.val);
  f.sites = fairness(sites);
  if (!own.empty()) f.personal = fairness(own);
  return f;
}

}  // namespace fedglioma::sim
