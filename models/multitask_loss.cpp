#include "models/multitask_loss.h"

#include <torch/nn/functional/loss.h>

#include "models/model.h"

namespace fedglioma::models {

namespace F = torch::nn::functional;

namespace {

// In float32 whatever the forward pass ran in (mixed precision): the Dice sums run over every voxel.
constexpr auto kLossType = torch::kFloat32;

// Soft Dice (smoothed by 1) + mean voxel BCE of `logits` against `target`, over the voxels along
// the last dimension: one term per case (whole tumour) or per case and region.
at::Tensor dice_plus_bce(const at::Tensor& logits, const at::Tensor& target) {
  constexpr double kSmooth = 1.0;
  const std::int64_t voxels = logits.dim() - 1;
  const at::Tensor prob = torch::sigmoid(logits);
  const at::Tensor soft_dice =
      1.0 - (2.0 * (prob * target).sum(voxels) + kSmooth) / (prob.sum(voxels) + target.sum(voxels) + kSmooth);
  const at::Tensor bce = F::binary_cross_entropy_with_logits(
                             logits, target, F::BinaryCrossEntropyWithLogitsFuncOptions().reduction(torch::kNone))
                             .mean(voxels);
  return soft_dice + bce;
}

// The mean of `terms` over the known ones (`known`: 1 or 0 each), and whether any is known.
void add_known_mean(const at::Tensor& terms, const at::Tensor& known, std::vector<at::Tensor>& losses,
                    std::vector<at::Tensor>& present) {
  losses.push_back((terms * known).sum() / known.sum().clamp_min(1.0));
  present.push_back((known.sum() > 0).to(kLossType));
}

// BraTS regions: per case and region (whole tumour, core, enhancing) soft Dice and mean voxel BCE
// against the bits of the region codes, averaged over the (case, region) pairs that are known. A
// case whose mask is binary knows its whole tumour only: its core and enhancing terms are
// multiplied by 0, so those logits get exactly zero gradient from it.
void add_region_terms(const MultiTaskOutput& output, const LossTargets& targets, std::vector<at::Tensor>& losses,
                      std::vector<at::Tensor>& present) {
  const auto batch = output.mask_logits.size(0);
  const at::Tensor codes = targets.mask.reshape({batch, 1, -1}).to(torch::kInt32);
  const at::Tensor bits = torch::tensor({1, 2, 4}, codes.options()).view({1, 3, 1});
  const at::Tensor target = codes.bitwise_and(bits).ne(0).to(kLossType);
  const at::Tensor mask = targets.mask_known.to(kLossType);
  const at::Tensor sub = targets.regions_known.defined() ? mask * targets.regions_known.to(kLossType) : torch::zeros_like(mask);
  add_known_mean(dice_plus_bce(output.mask_logits.reshape({batch, 3, -1}).to(kLossType), target),
                 torch::stack({mask, sub, sub}, 1), losses, present);
}

// Mask: per-case soft Dice and mean voxel BCE, averaged over the cases that have a mask.
void add_mask_term(const MultiTaskOutput& output, const LossTargets& targets, std::vector<at::Tensor>& losses,
                   std::vector<at::Tensor>& present) {
  if (output.mask_logits.size(1) == 3) return add_region_terms(output, targets, losses, present);
  const auto batch = output.mask_logits.size(0);
  const at::Tensor logits = output.mask_logits.reshape({batch, -1}).to(kLossType);
  const at::Tensor target = targets.mask.reshape({batch, -1}).to(kLossType);
  add_known_mean(dice_plus_bce(logits, target), targets.mask_known.to(kLossType), losses, present);
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
