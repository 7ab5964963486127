#pragma once

#include <optional>
#include <string>
#include <vector>

#include "sim/eval/round_eval.h"

namespace fedglioma::sim {

struct RoundRecord;

/// eval.select_by: the rule that chooses the round a run reports, always on validation cases,
/// never on the external or test set (a maximum over rounds on a test set is optimistic).
/// Written as one validation metric, `val.dice_mean`, `val.dice_median` or `val.auc.<marker>`,
/// or the mean of several, `mean(val.dice_mean, val.auc.idh)`. Every one of them grows with
/// quality.
struct SelectionRule {
  std::string text;                  ///< as written in the config
  std::vector<std::string> metrics;  ///< "val.dice_mean", ...
};

/// Parses eval.select_by. Throws std::invalid_argument saying what is wrong and what is allowed
/// (an unknown metric, a metric of the external or test set, an empty mean).
SelectionRule parse_selection_rule(const std::string& text);

/// The rule's score of one round's evaluation: the mean of its metrics; nullopt when any of them
/// is undefined (no validation cases, one class, a diverged model).
std::optional<double> selection_score(const RoundEval& eval, const SelectionRule& rule);

/// The round a run reports: the evaluated round with the highest score (the earliest of equal
/// ones); when no round has a score, the final evaluated round, with the reason. `round` is null
/// when no round was evaluated.
struct Selection {
  const RoundRecord* round = nullptr;
  std::string rule;                   ///< the rule's text, or "final" when no round has a score
  std::optional<double> score;
  std::optional<std::string> reason;  ///< why the final round stands in, when it does
};
Selection select_round(const std::vector<RoundRecord>& rounds, const SelectionRule& rule);

}  // namespace fedglioma::sim
