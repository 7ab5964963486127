#include "models/multitask_loss.h"

#include <torch/nn/functional/loss.h>

#include "models/multitask_unet3d.h"

namespace fedglioma::models {

namespace F = torch::nn::functional;

LossTerms multitask_loss(const MultiTaskOutput& output, const at::Tensor& mask_target,
                         const at::Tensor& mask_known, const at::Tensor& marker_target,
                         const at::Tensor& marker_known, const LossWeights& weights) {
  LossTerms terms;
  const auto batch = output.mask_logits.size(0);

  // Mask: per-case soft Dice and mean voxel BCE, averaged over the cases that have a mask.
  const at::Tensor logits = output.mask_logits.reshape({batch, -1});
  const at::Tensor target = mask_target.reshape({batch, -1}).to(logits.scalar_type());
  const at::Tensor prob = torch::sigmoid(logits);
  constexpr double kSmooth = 1.0;
  const at::Tensor soft_dice =
      1.0 - (2.0 * (prob * target).sum(1) + kSmooth) / (prob.sum(1) + target.sum(1) + kSmooth);
  const at::Tensor bce = F::binary_cross_entropy_with_logits(
                             logits, target, F::BinaryCrossEntropyWithLogitsFuncOptions().reduction(torch::kNone))
                             .mean(1);
  const at::Tensor known = mask_known.to(logits.scalar_type());
  const at::Tensor mask_loss = ((soft_dice + bce) * known).sum() / known.sum().clamp_min(1.0);
  terms.mask = mask_loss.item<double>();
  at::Tensor total = weights.mask * mask_loss;

  // Markers: BCE per case, zeroed where the label is unknown (multiplication by 0 gives those
  // logits exactly zero gradient), normalised by the labelled count per marker.
  const at::Tensor marker_logits = output.marker_logits;
  const at::Tensor labelled = marker_known.to(marker_logits.scalar_type());
  auto options = F::BinaryCrossEntropyWithLogitsFuncOptions().reduction(torch::kNone);
  if (weights.positive != std::array<double, 4>{1.0, 1.0, 1.0, 1.0})
    options.pos_weight(torch::tensor(std::vector<double>(weights.positive.begin(), weights.positive.end()),
                                     marker_logits.options()));
  const at::Tensor per_case =
      F::binary_cross_entropy_with_logits(marker_logits, marker_target.to(marker_logits.scalar_type()), options);
  const at::Tensor per_marker = (per_case * labelled).sum(0) / labelled.sum(0).clamp_min(1.0);
  const auto values = per_marker.detach().to(torch::kCPU);
  for (std::size_t m = 0; m < terms.markers.size(); ++m) {
    terms.markers[m] = values[static_cast<std::int64_t>(m)].item<double>();
    total = total + weights.markers[m] * per_marker[static_cast<std::int64_t>(m)];
  }
  terms.total = total;
  return terms;
}

}  // namespace fedglioma::models
