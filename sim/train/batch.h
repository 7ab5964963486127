#pragma once

#include <ATen/core/Tensor.h>
#include <c10/core/Device.h>

#include <array>
#include <cstdint>
#include <vector>

#include "data/dataset.h"
#include "models/multitask_loss.h"
#include "sim/train/case_tensors.h"

namespace fedglioma {
class Rng;
}

namespace fedglioma::sim {

/// Tensors of a mini-batch of B samples on one device.
struct Batch {
  at::Tensor image;              ///< [B, 4, D, H, W] float
  models::LossTargets targets;   ///< masks (float, zeros where unknown), labels and what is known
};

/// The training-time transforms of a batch (config `train`).
struct AugmentOptions {
  bool flips_and_intensity = true;  ///< train.augment: flips, per-channel scale and shift
  double gamma = 0.0;               ///< train.augment_gamma: probability of a gamma transform per channel
  double noise = 0.0;               ///< train.augment_noise: probability of Gaussian noise per sample
  std::array<std::int64_t, 3> patch{0, 0, 0};  ///< train.patch_size (i, j, k); 0 = the whole volume
  double oversample_tumour = 0.33;  ///< share of patches centred on a tumour voxel
};

/// Stacks `cases` (tensors on one device, see case_tensors.h) into a batch on that device. With
/// `rng` (the client's own generator) and `options`, training transforms are drawn for each
/// case, in this order:
/// - a patch of options.patch voxels when smaller than the volume, centred on a random tumour
///   voxel with probability oversample_tumour (when the mask has one), else anywhere;
/// - flipped along each spatial axis with probability 1/2, each channel scaled by U(0.85, 1.15)
///   and shifted by U(-0.15, 0.15) inside the brain (flips_and_intensity);
/// - per channel with probability `gamma`, a gamma transform with gamma in U(0.7, 1.5) on the
///   channel rescaled to [0, 1] inside the brain (nnU-Net's form), then scaled back;
/// - with probability `noise`, Gaussian noise of sd U(0, 0.1) inside the brain, from a torch
///   generator seeded by the client's generator.
/// Every draw is made on the CPU, from `rng`, and the transforms run where the tensors are, with
/// no host synchronisation: a CPU and a CUDA run draw the same augmentation, and on CUDA the host
/// thread prepares the next batch while the device trains on the current one.
/// Without `rng` (evaluation) the cases are stacked as they are.
Batch make_batch(const std::vector<CaseTensors>& cases, Rng* rng = nullptr, const AugmentOptions& options = {});

/// make_batch over samples in host memory, moved to `device` (evaluation, tests).
Batch make_batch(const std::vector<const data::Sample*>& samples, const c10::Device& device, Rng* rng = nullptr,
                 const AugmentOptions& options = {});

}  // namespace fedglioma::sim
