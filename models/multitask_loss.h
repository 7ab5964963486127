#pragma once

#include <ATen/core/Tensor.h>

#include <array>

namespace fedglioma::models {

struct MultiTaskOutput;

/// Per-task weights of the multi-task loss (config `train.loss_weights`).
struct LossWeights {
  double mask = 1.0;
  std::array<double, 4> markers{1.0, 1.0, 1.0, 1.0};  ///< kMarkers order
  /// BCE weight of the positive class per marker (pos_weight: negatives / positives balances them).
  std::array<double, 4> positive{1.0, 1.0, 1.0, 1.0};
};

/// The loss of one batch and its parts (the parts detached, for logging).
struct LossTerms {
  at::Tensor total;                  ///< scalar, differentiable
  double mask = 0.0;                 ///< soft Dice + BCE over cases with a mask
  std::array<double, 4> markers{};   ///< BCE per marker over labelled cases (0 when none)
};

/// Multi-task loss: (soft Dice + voxel BCE) for the mask over cases whose mask is known, plus
/// per marker the BCE over the cases whose label is known, normalised by that count, all
/// weighted. Unlabelled cases contribute exactly zero gradient to a marker's logit.
/// `mask_target` [B, 1, D, H, W] in {0, 1}; `mask_known` [B]; `marker_target` and `marker_known`
/// [B, 4], in {0, 1}.
LossTerms multitask_loss(const MultiTaskOutput& output, const at::Tensor& mask_target,
                         const at::Tensor& mask_known, const at::Tensor& marker_target,
                         const at::Tensor& marker_known, const LossWeights& weights);

}  // namespace fedglioma::models
