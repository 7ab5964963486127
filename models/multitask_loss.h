#pragma once

#include <ATen/core/Tensor.h>

#include "models/loss_weights.h"

#include <array>

namespace fedglioma::models {

struct MultiTaskOutput;

/// What a batch should give; every tensor on the output's device.
struct LossTargets {
  at::Tensor mask;          ///< [B, 1, D, H, W] in {0, 1} (zeros where unknown); region codes (0, 1, 3, 7:
                            ///< data/label_conventions.h) where `regions_known`
  at::Tensor mask_known;    ///< [B] in {0, 1}
  at::Tensor marker;        ///< [B, 4] in {0, 1}, kMarkers order (grade: 1 = grade 4)
  at::Tensor marker_known;  ///< [B, 4] in {0, 1}
  at::Tensor grade_class;   ///< [B] int64: WHO grade - 2 (0, 1, 2); 0 where unknown
  at::Tensor regions_known = {};  ///< [B] in {0, 1}: the mask tells the core and enhancing regions apart
};

/// The loss of one batch and its parts. The parts stay on the device until asked for, so that
/// training never waits for them.
struct LossTerms {
  at::Tensor total;  ///< scalar, differentiable
  at::Tensor parts;  ///< [5] detached: the mask term, then each marker's (kMarkers order)

  /// Soft Dice + BCE over cases with a mask (reads the device).
  double mask() const;
  /// BCE (3-class grade: cross-entropy) of marker `m` over its labelled cases (reads the device).
  double marker(std::size_t m) const;
};

/// Multi-task loss: (soft Dice + voxel BCE) for the mask over cases whose mask is known (with
/// three mask outputs, the BraTS regions: per case and region, averaged over the known pairs, the
/// whole tumour of every case with a mask, core and enhancing of those with `regions_known`), plus per
/// marker the BCE over the cases whose label is known, normalised by that count; with 3-class
/// grade (output.grade_logits defined) the grade term is the cross-entropy over grades 2/3/4
/// instead. Unlabelled cases contribute exactly zero gradient to a marker's logits.
/// Tasks are combined as sum_t w_t L_t; with learned task uncertainty (output.log_variance
/// defined, s_t = log sigma_t^2) as sum_t w_t (exp(-s_t) L_t + s_t / 2), Kendall, Gal and Cipolla
/// (2018)'s form for classification-type losses, where a task's s_t term counts only when the
/// batch has cases labelled for it (otherwise nothing would hold s_t back).
LossTerms multitask_loss(const MultiTaskOutput& output, const LossTargets& targets, const LossWeights& weights);

}  // namespace fedglioma::models
