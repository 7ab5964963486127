#include "sim/eval/evaluation.h"

#include <torch/nn/module.h>

#include <algorithm>

#include "core/curves.h"
#include "core/metrics.h"
#include "data/label_conventions.h"
#include "data/manifest.h"
#include "core/random.h"
#include "models/model.h"
#include "sim/eval/set_metrics.h"
#include "sim/train/batch.h"
#include "sim/workers/executor.h"

namespace fedglioma::sim {

CaseOutput run_case(models::Model& model, const c10::Device& device, const data::Sample& sample) {
  torch::NoGradGuard no_grad;
  model.eval();
  const auto output = model.forward(make_batch({&sample}, device, nullptr).image);
  CaseOutput out;
  const torch::Tensor probs = torch::sigmoid(output.marker_logits[0].to(torch::kDouble)).to(torch::kCPU);
  for (std::size_t m = 0; m < out.markers.prob.size(); ++m)
    out.markers.prob[m] = probs[static_cast<std::int64_t>(m)].item<double>();
  if (output.grade_logits.defined()) {
    const torch::Tensor grade = torch::softmax(output.grade_logits[0].to(torch::kDouble), 0).to(torch::kCPU);
    out.markers.grade.emplace();
    for (std::size_t c = 0; c < 3; ++c) (*out.markers.grade)[c] = grade[static_cast<std::int64_t>(c)].item<double>();
  }
  out.finite = torch::isfinite(output.mask_logits).all().item<bool>() &&
               torch::isfinite(output.marker_logits).all().item<bool>() &&
               (!output.grade_logits.defined() || torch::isfinite(output.grade_logits).all().item<bool>());
  const torch::Tensor mask = (output.mask_logits[0][0] >= 0.0).to(torch::kCPU, torch::kUInt8).contiguous();
  out.mask.assign(mask.data_ptr<std::uint8_t>(), mask.data_ptr<std::uint8_t>() + mask.numel());
  const torch::Tensor probability = torch::sigmoid(output.mask_logits[0][0]).to(torch::kCPU, torch::kFloat).contiguous();
  out.probability.assign(probability.data_ptr<float>(), probability.data_ptr<float>() + probability.numel());
  if (output.mask_logits.size(1) == 3) {
    const torch::Tensor bits = torch::tensor({1, 2, 4}, torch::kInt32).view({3, 1, 1, 1});
    const torch::Tensor codes =
        ((output.mask_logits[0] >= 0.0).to(torch::kCPU, torch::kInt32) * bits).sum(0).to(torch::kUInt8).contiguous();
    out.regions.assign(codes.data_ptr<std::uint8_t>(), codes.data_ptr<std::uint8_t>() + codes.numel());
  }
  return out;
}

namespace {

// Tumour core and enhancing tumour Dice and HD95 of a case whose mask has sub-regions.
void score_regions(const CaseOutput& output, const data::Sample& sample, CasePrediction& out) {
  const std::uint8_t bits[2] = {data::kTumourCoreBit, data::kEnhancingBit};
  std::optional<double>* dices[2] = {&out.dice_tc, &out.dice_et};
  std::optional<double>* distances[2] = {&out.hd95_tc, &out.hd95_et};
  for (int r = 0; r < 2; ++r) {
    const auto predicted = data::region_mask(output.regions, bits[r]), truth = data::region_mask(sample.mask, bits[r]);
    *dices[r] = dice(predicted.data(), truth.data(), truth.size());
    *distances[r] = hd95(predicted.data(), truth.data(), sample.geometry.size, sample.geometry.spacing);
  }
}

}  // namespace

CasePrediction predict_case(Worker& worker, const data::Sample& sample) {
  CaseOutput output = run_case(*worker.model, worker.device, sample);
  CasePrediction out;
  out.sample = &sample;
  out.markers = output.markers;
  out.finite = output.finite;
  if (!sample.mask.empty() && out.finite) {
    out.dice = dice(output.mask.data(), sample.mask.data(), sample.mask.size());
    out.hd95 = hd95(output.mask.data(), sample.mask.data(), sample.geometry.size, sample.geometry.spacing);
    const auto& d = sample.geometry.spacing;
    const double voxel_ml = d[0] * d[1] * d[2] / 1000.0;
    auto voxels = [](const std::vector<std::uint8_t>& m) {
      return static_cast<double>(std::count_if(m.begin(), m.end(), [](std::uint8_t v) { return v != 0; }));
    };
    out.volume_ml = voxels(output.mask) * voxel_ml;
    out.reference_volume_ml = voxels(sample.mask) * voxel_ml;
    if (!output.regions.empty() && sample.has_regions) score_regions(output, sample, out);
  }
  return out;
}

namespace {

// The seed streams of one summary's bootstrap intervals: one per marker, then 3-class grade, then Dice.
constexpr std::uint64_t kGradeStream = data::kMarkers.size();
constexpr std::uint64_t kDiceStream = data::kMarkers.size() + 1;

void summarize_dice(const std::vector<const CasePrediction*>& predictions, std::uint64_t seed, EvalSummary& s) {
  std::vector<double> dices;
  for (const CasePrediction* p : predictions)
    if (p->dice) dices.push_back(*p->dice);
  s.n_dice = dices.size();
  s.dice_mean = mean(dices);
  s.dice_median = median(dices);
  s.dice_mean_ci = mean_ci_bootstrap(dices, kBootstrapResamples, derive_seed(seed, 0, kDiceStream, RngPurpose::kBootstrap));
  if (s.dice_mean_ci) return;
  if (dices.size() < 2)
    s.dice_mean_ci_missing = std::to_string(dices.size()) + " case(s) with a mask: a Dice interval needs at least 2";
  else
    s.dice_mean_ci_missing = "every case has the same Dice: no spread to resample";
}

// One marker's AUC, intervals, calibration and rates over its labelled cases.
void summarize_marker(const std::vector<const CasePrediction*>& predictions, std::size_t m, std::uint64_t seed,
                      const MarkerThresholds* val_thresholds, EvalSummary& s) {
  std::vector<double> scores;
  std::vector<int> labels;
  for (const CasePrediction* p : predictions) {
    if (const auto y = p->sample->labels.binary(m)) {
      scores.push_back(p->markers.prob[m]);
      labels.push_back(*y);
    }
  }
  s.n_positive[m] = static_cast<std::size_t>(std::count(labels.begin(), labels.end(), 1));
  s.n_negative[m] = labels.size() - s.n_positive[m];
  s.auc[m] = roc_auc(scores, labels);
  s.auc_ci_missing[m] = auc_interval_missing(s.n_positive[m], s.n_negative[m]);
  if (!s.auc_ci_missing[m] && std::all_of(scores.begin(), scores.end(), [&](double v) { return v == scores.front(); }))
    s.auc_ci_missing[m] = "every case has the same score: the AUC is 0.5 by ties and has no spread";
  if (!s.auc_ci_missing[m]) {
    s.auc_ci_delong[m] = auc_ci_delong(scores, labels);
    s.auc_ci_bootstrap[m] = auc_ci_bootstrap(scores, labels, kBootstrapResamples,
                                             derive_seed(seed, 0, m, RngPurpose::kBootstrap));
  }
  s.brier[m] = brier_score(scores, labels);
  s.ece[m] = expected_calibration_error(scores, labels);
  s.at_05[m] = rates_at(scores, labels, 0.5);
  s.at_youden[m] = youden(scores, labels);
  if (val_thresholds && (*val_thresholds)[m]) s.at_val_threshold[m] = rates_at(scores, labels, *(*val_thresholds)[m]);
}

std::optional<GradeSummary> summarize_grade3(const std::vector<const CasePrediction*>& predictions, std::uint64_t seed) {
  if (predictions.empty() || !predictions.front()->markers.grade) return std::nullopt;
  std::vector<std::vector<double>> scores;
  std::vector<int> grades;
  for (const CasePrediction* p : predictions)
    if (p->sample->labels.grade) {
      scores.emplace_back(p->markers.grade->begin(), p->markers.grade->end());
      grades.push_back(*p->sample->labels.grade - 2);
    }
  GradeSummary g;
  g.auc_macro = roc_auc_ovr_macro(scores, grades, 3);
  g.auc_macro_ci_bootstrap = auc_ovr_macro_ci_bootstrap(scores, grades, 3, kBootstrapResamples,
                                                        derive_seed(seed, 0, kGradeStream, RngPurpose::kBootstrap));
  const auto per_grade = roc_auc_one_vs_rest(scores, grades, 3);
  std::copy(per_grade.begin(), per_grade.end(), g.auc_ovr.begin());
  return g;
}

}  // namespace

std::vector<MissingInterval> missing_intervals(const EvalSummary& s, bool labelled_too) {
  std::vector<MissingInterval> out;
  if (s.dice_mean && s.dice_mean_ci_missing) out.push_back({std::nullopt, *s.dice_mean_ci_missing});
  for (std::size_t m = 0; m < s.auc.size(); ++m) {
    const bool counted = s.auc[m] || (labelled_too && s.n_positive[m] + s.n_negative[m] > 0);
    if (counted && s.auc_ci_missing[m]) out.push_back({m, *s.auc_ci_missing[m]});
  }
  return out;
}

MarkerThresholds youden_thresholds(const EvalSummary& val) {
  MarkerThresholds out;
  for (std::size_t m = 0; m < out.size(); ++m)
    if (val.at_youden[m]) out[m] = val.at_youden[m]->threshold;
  return out;
}

EvalSummary summarize(const std::vector<const CasePrediction*>& predictions, std::uint64_t seed,
                      const MarkerThresholds* val_thresholds) {
  EvalSummary s;
  s.n = predictions.size();
  const auto non_finite = std::count_if(predictions.begin(), predictions.end(), [](const auto* p) { return !p->finite; });
  if (non_finite > 0) {
    s.diverged = "the model's outputs are NaN or infinite for " + std::to_string(non_finite) + " of " +
                 std::to_string(s.n) + " case(s): it diverged, so nothing is scored";
    for (const SetMetric& metric : set_metrics()) s.named[metric.name] = std::nullopt;
    return s;
  }
  summarize_dice(predictions, seed, s);
  for (const SetMetric& metric : set_metrics()) s.named[metric.name] = metric.compute(predictions);
  for (std::size_t m = 0; m < s.auc.size(); ++m) summarize_marker(predictions, m, seed, val_thresholds, s);
  s.grade3 = summarize_grade3(predictions, seed);
  return s;
}

EvalSummary mean_summary(const std::vector<EvalSummary>& parts) {
  static const std::string kNoMeanInterval = "a mean over several models' summaries: intervals do not average";
  EvalSummary out;
  if (parts.empty()) return out;
  out.n = parts.front().n;
  const auto diverged = std::count_if(parts.begin(), parts.end(), [](const EvalSummary& p) { return p.diverged.has_value(); });
  if (diverged > 0) {
    out.diverged = std::to_string(diverged) + " of " + std::to_string(parts.size()) +
                   " model(s) diverged (each one's own block says which), so their mean is not scored";
    for (const SetMetric& metric : set_metrics()) out.named[metric.name] = std::nullopt;
    return out;
  }
  auto average = [&](auto get) {
    std::vector<double> values;
    for (const EvalSummary& p : parts)
      if (const std::optional<double> v = get(p)) values.push_back(*v);
    return mean(values);
  };
  out.dice_mean = average([](const EvalSummary& p) { return p.dice_mean; });
  out.dice_median = average([](const EvalSummary& p) { return p.dice_median; });
  for (const SetMetric& metric : set_metrics())
    out.named[metric.name] = average([&](const EvalSummary& p) { return p.metric(metric.name); });
  for (std::size_t m = 0; m < out.auc.size(); ++m) {
    out.auc[m] = average([m](const EvalSummary& p) { return p.auc[m]; });
    out.brier[m] = average([m](const EvalSummary& p) { return p.brier[m]; });
    out.ece[m] = average([m](const EvalSummary& p) { return p.ece[m]; });
    out.n_positive[m] = parts.front().n_positive[m];
    out.n_negative[m] = parts.front().n_negative[m];
    out.auc_ci_missing[m] = kNoMeanInterval;
  }
  out.n_dice = parts.front().n_dice;
  out.dice_mean_ci_missing = kNoMeanInterval;
  if (parts.front().grade3) {
    GradeSummary g;
    g.auc_macro = average([](const EvalSummary& p) { return p.grade3 ? p.grade3->auc_macro : std::nullopt; });
    for (std::size_t c = 0; c < g.auc_ovr.size(); ++c)
      g.auc_ovr[c] = average([c](const EvalSummary& p) { return p.grade3 ? p.grade3->auc_ovr[c] : std::nullopt; });
    out.grade3 = g;
  }
  return out;
}

}  // namespace fedglioma::sim
