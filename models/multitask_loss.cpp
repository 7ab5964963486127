#include "models/multitask_loss.h"

#include <torch/nn/functional/loss.h>

#include "models/model.h"

namespace fedglioma::models {

namespace F = torch::nn::functional;

namespace {

// In float32 whatever the forward pass ran in (mixed precision): the Dice sums run over every voxel.
constexpr auto kLossType = torch::kFloat32;

// Mask: per-case soft Dice and mean voxel BCE, averaged over the cases that have a mask.
void add_mask_term(const MultiTaskOutput& output, const LossTargets& targets, std::vector<at::Tensor>& losses,
                   std::vector<at::Tensor>& present) {
  const auto type = kLossType;
  const auto batch = output.mask_logits.size(0);
  const at::Tensor logits = output.mask_logits.reshape({batch, -1}).to(type);
  const at::Tensor target = targets.mask.reshape({batch, -1}).to(type);
  const at::Tensor prob = torch::sigmoid(logits);
  constexpr double kSmooth = 1.0;
  const at::Tensor soft_dice =
      1.0 - (2.0 * (prob * target).sum(1) + kSmooth) / (prob.sum(1) + target.sum(1) + kSmooth);
  const at::Tensor bce = F::binary_cross_entropy_with_logits(
                             logits, target, F::BinaryCrossEntropyWithLogitsFuncOptions().reduction(torch::kNone))
                             .mean(1);
  const at::Tensor known = targets.mask_known.to(type);
  losses.push_back(((soft_dice + bce) * known).sum() / known.sum().clamp_min(1.0));
  present.push_back((known.sum() > 0).to(type));
}

// 3-class grade: cross-entropy over grades 2/3/4 per labelled case (class-weighted), normalised by
// the labelled count as the binary markers are.
at::Tensor grade_cross_entropy(const MultiTaskOutput& output, const LossTargets& targets, const LossWeights& weights,
                               const at::Tensor& marker_logits, const at::Tensor& grade_labelled) {
  auto ce = F::CrossEntropyFuncOptions().reduction(torch::kNone);
  if (weights.grade_class != std::array<double, 3>{1.0, 1.0, 1.0})
    ce.weight(torch::tensor(std::vector<double>(weights.grade_class.begin(), weights.grade_class.end()),
                            marker_logits.options()));
  const at::Tensor per_case_ce = F::cross_entropy(output.grade_logits.to(kLossType), targets.grade_class, ce);
  return (per_case_ce * grade_labelled).sum() / grade_labelled.sum().clamp_min(1.0);
}

// Markers: BCE per case, zeroed where the label is unknown (multiplication by 0 gives those
// logits exactly zero gradient), normalised by the labelled count per marker.
void add_marker_terms(const MultiTaskOutput& output, const LossTargets& targets, const LossWeights& weights,
                      const at::Tensor& marker_logits, std::vector<at::Tensor>& losses,
                      std::vector<at::Tensor>& present) {
  const auto type = kLossType;
  const bool three_class_grade = output.grade_logits.defined();
  at::Tensor labelled = targets.marker_known.to(marker_logits.scalar_type());
  const at::Tensor grade_labelled = labelled.select(1, 3);
  if (three_class_grade) labelled = labelled * torch::tensor({1.0, 1.0, 1.0, 0.0}, labelled.options());
  auto options = F::BinaryCrossEntropyWithLogitsFuncOptions().reduction(torch::kNone);
  if (weights.positive != std::array<double, 4>{1.0, 1.0, 1.0, 1.0})
    options.pos_weight(torch::tensor(std::vector<double>(weights.positive.begin(), weights.positive.end()),
                                     marker_logits.options()));
  const at::Tensor per_case =
      F::binary_cross_entropy_with_logits(marker_logits, targets.marker.to(marker_logits.scalar_type()), options);
  const at::Tensor counts = labelled.sum(0);
  const at::Tensor per_marker = (per_case * labelled).sum(0) / counts.clamp_min(1.0);
  for (std::int64_t m = 0; m < 3; ++m) {
    losses.push_back(per_marker[m]);
    present.push_back((counts[m] > 0).to(type));
  }
  if (three_class_grade) {
    losses.push_back(grade_cross_entropy(output, targets, weights, marker_logits, grade_labelled));
    present.push_back((grade_labelled.sum() > 0).to(type));
  } else {
    losses.push_back(per_marker[3]);
    present.push_back((counts[3] > 0).to(type));
  }
}

// The tasks combined: sum_t w_t L_t, or with learned task uncertainty sum_t w_t (exp(-s_t) L_t + s_t / 2),
// where a task's s_t term counts only when the batch has cases labelled for it.
at::Tensor weighted_total(const MultiTaskOutput& output, const LossWeights& weights,
                          const std::vector<at::Tensor>& losses, const std::vector<at::Tensor>& present,
                          const at::TensorOptions& options) {
  const std::array<double, 5> task_weight{weights.mask, weights.markers[0], weights.markers[1], weights.markers[2],
                                          weights.markers[3]};
  at::Tensor total = torch::zeros({}, options);
  for (std::size_t t = 0; t < losses.size(); ++t) {
    if (output.log_variance.defined()) {
      const at::Tensor s = output.log_variance[static_cast<std::int64_t>(t)].to(kLossType);
      total = total + task_weight[t] * (torch::exp(-s) * losses[t] + 0.5 * s * present[t]);
    } else {
      total = total + task_weight[t] * losses[t];
    }
  }
  return total;
}

}  // namespace

LossTerms multitask_loss(const MultiTaskOutput& output, const LossTargets& targets, const LossWeights& weights) {
  LossTerms terms;
  std::vector<at::Tensor> losses, present;  // per task: mask, then kMarkers order
  add_mask_term(output, targets, losses, present);
  const at::Tensor marker_logits = output.marker_logits.to(kLossType);
  add_marker_terms(output, targets, weights, marker_logits, losses, present);
  const at::Tensor total = weighted_total(output, weights, losses, present, marker_logits.options());
  terms.parts = torch::stack(losses).detach();
  terms.total = total;
  return terms;
}

double LossTerms::mask() const { return parts[0].item<double>(); }

double LossTerms::marker(std::size_t m) const { return parts[static_cast<std::int64_t>(m + 1)].item<double>(); }

}  // namespace fedglioma::models
