#pragma once

#include <array>
#include <cstddef>
#include <optional>
#include <vector>

#include "sim/eval/evaluation.h"
#include "sim/eval/round_eval.h"

namespace fedglioma::sim {

/// How one metric varies across sites: the worst and best site's value, the standard deviation
/// across sites (n - 1 in the denominator; none with fewer than two sites), and how many sites
/// have the metric defined (an AUC is undefined on a site whose labelled cases hold one class).
struct Spread {
  std::optional<double> worst, best, sd;
  std::size_t defined = 0, undefined = 0;
};

/// The fairness summary of one evaluation: the spread across sites of the mean Dice and of each
/// marker's AUC (kMarkers order). Higher is better for every one of them, so the worst is the
/// lowest.
struct Fairness {
  Spread dice;
  std::array<Spread, 4> auc;
};

Spread spread(const std::vector<std::optional<double>>& values);
Fairness fairness(const std::vector<const EvalSummary*>& sites);

/// The spread across sites of the global model's per-site validation metrics (`sites`), and of
/// the clients' own models on their own validation cases (`personal`, when there are any).
struct RoundFairness {
  Fairness sites;
  std::optional<Fairness> personal;
};
RoundFairness round_fairness(const RoundEval& eval);

}  // namespace fedglioma::sim
