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

/// Stacks `samples` into a batch on `device`. With `augment` (the client's own generator), each
/// sample is flipped along each spatial axis with probability 1/2, and each channel is scaled by
/// U(0.85, 1.15) and shifted by U(-0.15, 0.15) inside the brain.
Batch make_batch(const std::vector<const data::Sample*>& samples, const c10::Device& device, Rng* augment);

}  // namespace fedglioma::sim
