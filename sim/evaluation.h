#pragma once

#include <array>
#include <cstddef>
#include <optional>
#include <vector>

#include "data/dataset.h"

namespace fedglioma::sim {

struct Worker;

/// The global model's output for one case.
struct CasePrediction {
  const data::Sample* sample = nullptr;
  std::optional<double> dice;    ///< whole-tumour Dice at p >= 0.5; nullopt without a mask
  std::optional<double> hd95;    ///< mm; nullopt without a mask
  std::array<double, 4> prob{};  ///< sigmoid probability per marker, kMarkers order
};

/// Metrics of a set of cases (DESIGN.md, rounds.jsonl "eval" blocks).
struct EvalSummary {
  std::size_t n = 0;
  std::optional<double> dice_mean, dice_median, hd95_median;
  std::array<std::optional<double>, 4> auc;  ///< nullopt when the labelled cases hold one class
};

/// Runs the model loaded in `worker` on one case (eval mode, no gradients).
CasePrediction predict_case(Worker& worker, const data::Sample& sample);

/// Dice mean/median, HD95 median and ROC AUC per marker over `predictions` (labelled cases only).
EvalSummary summarize(const std::vector<const CasePrediction*>& predictions);

}  // namespace fedglioma::sim
