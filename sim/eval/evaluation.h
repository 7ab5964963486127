#pragma once

#include <array>
#include <cstddef>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/metrics.h"
#include "data/dataset.h"

#include <c10/core/Device.h>

namespace fedglioma::models {
class Model;
}

namespace fedglioma::sim {

struct Worker;

/// A network's marker probabilities for one case.
struct MarkerProbabilities {
  std::array<double, 4> prob{};  ///< per marker, kMarkers order (grade: P(grade 4))
  std::optional<std::array<double, 3>> grade;  ///< 3-class grade: P(grade 2), P(grade 3), P(grade 4)
};

/// A network's output for one case.
struct CaseOutput {
  MarkerProbabilities markers;     ///< sigmoids of the marker logits; with 3-class grade the softmax over grades
  std::vector<std::uint8_t> mask;  ///< whole tumour at p >= 0.5 on the network grid (x fastest)
  std::vector<float> probability;  ///< P(whole tumour) per voxel on the network grid (x fastest)
  /// With three mask outputs (model.segmentation "brats_regions"): the region code per voxel
  /// (whole tumour, core, enhancing bits at p >= 0.5: data/label_conventions.h); else empty.
  std::vector<std::uint8_t> regions;
  bool finite = true;              ///< every logit finite; false: the model diverged and nothing here means anything
};

/// Runs `model` on `sample` alone on `device`, in eval mode without gradients: the one forward
/// pass that evaluation and `predict` share.
CaseOutput run_case(models::Model& model, const c10::Device& device, const data::Sample& sample);

/// The global model's output for one case.
struct CasePrediction {
  const data::Sample* sample = nullptr;
  std::optional<double> dice;    ///< whole-tumour Dice at p >= 0.5; nullopt without a mask
  std::optional<double> hd95;    ///< mm; nullopt without a mask
  std::optional<double> volume_ml, reference_volume_ml;  ///< whole tumour, predicted and in the mask; nullopt without a mask
  /// Tumour core and enhancing tumour (brats_regions runs, cases whose mask has sub-regions):
  /// Dice at p >= 0.5 and HD95 (mm); nullopt otherwise.
  std::optional<double> dice_tc, dice_et, hd95_tc, hd95_et;
  MarkerProbabilities markers;
  bool finite = true;            ///< false: a logit was NaN or infinite (dice and hd95 are then nullopt)
};

/// 3-class WHO grade (model.grade_classes 3): one-vs-rest AUCs over the cases with a known grade.
struct GradeSummary {
  std::optional<double> auc_macro;                   ///< macro one-vs-rest; nullopt unless all 3 grades occur
  std::optional<Interval> auc_macro_ci_bootstrap;    ///< 95%, stratified by grade
  std::array<std::optional<double>, 3> auc_ovr;      ///< grade 2, 3, 4 each against the rest
};

/// Metrics of a set of cases (DESIGN.md, rounds.jsonl "eval" blocks).
struct EvalSummary {
  std::size_t n = 0;
  /// Set when the model diverged: its predictions for some of the cases were not finite. Every
  /// metric is then nullopt (a NaN score would rank as 0 or 1 and pass for an AUC), and this says why.
  std::optional<std::string> diverged;
  std::optional<double> dice_mean, dice_median;
  std::size_t n_dice = 0;                      ///< the cases with a mask, over which the Dice values go
  std::optional<Interval> dice_mean_ci;        ///< 95%, bootstrap of the mean over the cases with a mask
  std::optional<std::string> dice_mean_ci_missing;  ///< why dice_mean_ci is absent (too few cases, no spread)
  /// The table's metrics (sim/eval/set_metrics.h: hd95_median, ...) by name.
  std::map<std::string, std::optional<double>> named;
  std::array<std::optional<double>, 4> auc;  ///< nullopt when the labelled cases hold one class
  std::array<std::optional<Interval>, 4> auc_ci_delong;     ///< 95% CI, DeLong
  std::array<std::optional<Interval>, 4> auc_ci_bootstrap;  ///< 95% CI, stratified bootstrap
  std::array<std::optional<std::string>, 4> auc_ci_missing; ///< why a marker's AUC has no interval
  std::array<std::size_t, 4> n_positive{}, n_negative{};    ///< the labelled cases of each marker, by class
  std::array<std::optional<double>, 4> brier, ece;          ///< calibration (core/curves.h); nullopt without labels
  std::array<std::optional<ThresholdRates>, 4> at_05;       ///< rates at probability 0.5
  std::array<std::optional<ThresholdRates>, 4> at_youden;   ///< rates at this set's own Youden threshold (optimistic)
  /// Rates at the threshold chosen on validation cases (their Youden threshold): the honest
  /// thresholded numbers of every other set; on the validation cases themselves, at_youden (the
  /// round's evaluation sets them: sim/eval/eval_plan.h).
  std::array<std::optional<ThresholdRates>, 4> at_val_threshold;
  std::optional<GradeSummary> grade3;                       ///< with 3-class grade predictions only

  /// A table metric's value; nullopt where it is undefined or not computed.
  std::optional<double> metric(const std::string& name) const {
    const auto it = named.find(name);
    return it == named.end() ? std::nullopt : it->second;
  }
};

/// A number of a summary that has no 95 % interval, and why (EvalSummary's *_missing reasons).
struct MissingInterval {
  std::optional<std::size_t> marker;  ///< the marker's AUC (kMarkers index); nullopt: the mean Dice
  std::string reason;
};

/// The defined mean Dice and AUCs of `s` that have no interval; with `labelled_too`, also the
/// AUCs left undefined although the marker has labelled cases (one class). The one rule the
/// console, metrics.csv, sweep.csv and evaluate report them by.
std::vector<MissingInterval> missing_intervals(const EvalSummary& s, bool labelled_too = false);

/// Resamples of the stratified bootstrap AUC interval.
inline constexpr int kBootstrapResamples = 2000;

/// Runs the model loaded in `worker` on one case (eval mode, no gradients).
CasePrediction predict_case(Worker& worker, const data::Sample& sample);

/// Per marker, the thresholds chosen on validation cases (nullopt: none could be chosen).
using MarkerThresholds = std::array<std::optional<double>, 4>;

/// The Youden thresholds of a summary (its at_youden), for the other sets' at_val_threshold.
MarkerThresholds youden_thresholds(const EvalSummary& val);

/// Dice mean (with its bootstrap interval) and median, HD95 median and, per marker over its
/// labelled cases, the ROC AUC with its DeLong and bootstrap (kBootstrapResamples, generator from
/// `seed`) 95% intervals (or why there are none), the Brier score and expected calibration error,
/// and the sensitivity / specificity / balanced accuracy at 0.5, at the set's own Youden
/// threshold and at `val_thresholds` (when given); with 3-class grade predictions also the macro
/// one-vs-rest grade AUC (GradeSummary). A prediction that is not finite makes the whole summary
/// `diverged`, with no metric.
EvalSummary summarize(const std::vector<const CasePrediction*>& predictions, std::uint64_t seed,
                      const MarkerThresholds* val_thresholds = nullptr);

/// The metric-wise mean of several summaries of the same cases (local mode: the external set
/// over the local models): Dice, HD95, AUCs and the 3-class grade AUCs, each over the parts where
/// it is defined; intervals and rates are left empty (they do not average). When any part
/// diverged, so does the mean (a mean over the others would hide it; each part says which).
EvalSummary mean_summary(const std::vector<EvalSummary>& parts);

}  // namespace fedglioma::sim
