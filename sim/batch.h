#pragma once

#include <ATen/core/Tensor.h>
#include <c10/core/Device.h>

#include <vector>

#include "data/dataset.h"

namespace fedglioma {
class Rng;
}

namespace fedglioma::sim {

/// Tensors of a mini-batch of B samples on one device.
struct Batch {
  at::Tensor image;          ///< [B, 4, D, H, W] float
  at::Tensor mask;           ///< [B, 1, D, H, W] float in {0, 1} (zeros where unknown)
  at::Tensor mask_known;     ///< [B] float in {0, 1}
  at::Tensor marker_target;  ///< [B, 4] float in {0, 1} (zeros where unknown)
  at::Tensor marker_known;   ///< [B, 4] float in {0, 1}
};

/// Stacks `samples` into a batch on `device`. With `augment`, each sample is flipped along each
/// spatial axis with probability 1/2, drawn from `augment` (the client's own generator).
Batch make_batch(const std::vector<const data::Sample*>& samples, const c10::Device& device, Rng* augment);

}  // namespace fedglioma::sim
