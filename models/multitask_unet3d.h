#pragma once

#include <torch/arg.h>
#include <torch/nn/modules/container/modulelist.h>
#include <torch/nn/modules/container/sequential.h>
#include <torch/nn/modules/conv.h>
#include <torch/nn/pimpl.h>

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "models/model.h"
#include "models/model_config.h"

namespace fedglioma::models {

/// Options of MultiTaskUNet3D (DESIGN.md, "The model").
struct MultiTaskUNet3DOptions {
  /// Input channels: the four MRI modalities.
  TORCH_ARG(std::int64_t, in_channels) = 4;
  /// Resolution levels of the encoder; the input edge must be divisible by 2^(depth-1).
  TORCH_ARG(std::int64_t, depth) = 4;
  /// Channels of the first level; level l has base_channels * 2^l, capped at max_channels.
  TORCH_ARG(std::int64_t, base_channels) = 16;
  TORCH_ARG(std::int64_t, max_channels) = 320;
  /// Normalisation after each convolution: "instance", "group" or "batch" (all affine).
  TORCH_ARG(std::string, norm) = "instance";
  /// Add a tumour-weighted average of the bottleneck to the marker features: the bottleneck
  /// pooled with the predicted whole-tumour probability (detached, downsampled) as weights.
  /// Global average pooling after instance norm is nearly constant per channel; the tumour
  /// region's features relative to the whole brain are what carries the marker signal.
  TORCH_ARG(bool, tumour_pooling) = true;
  /// Width of the shared marker MLP.
  TORCH_ARG(std::int64_t, head_hidden) = 64;
  /// What the marker heads pool: "bottleneck" (average and max of the deepest level) or
  /// "all_levels" (average and max of every encoder level, as van der Voort et al. 2023's
  /// multi-task glioma network); the tumour-weighted bottleneck mean is added in both cases.
  TORCH_ARG(std::string, head_features) = "bottleneck";
  /// WHO grade as 2 classes (one logit: grade 4 vs 2-3) or 3 classes (logits for grades 2, 3, 4).
  TORCH_ARG(std::int64_t, grade_classes) = 2;
  /// Dropout probability on the marker MLP's input features and hidden units while training.
  /// Masks are drawn from the generator given to set_dropout_generator (the client's own), never
  /// from the global one.
  TORCH_ARG(double, dropout) = 0.0;
  /// Learned task weighting (Kendall, Gal and Cipolla 2018): a parameter `task_log_variance`
  /// holds s_t = log sigma_t^2 for the mask and the four markers, which multitask_loss uses.
  TORCH_ARG(bool, task_uncertainty) = false;
  /// Mask outputs: 1 (whole tumour) or 3 (whole tumour, tumour core, enhancing tumour: the BraTS
  /// regions), one logit each per voxel.
  TORCH_ARG(std::int64_t, mask_outputs) = 1;
};

/// A 3D U-Net with marker heads. Encoder: per level two (3x3x3 conv -> norm -> LeakyReLU 0.01)
/// blocks, the first of levels 1.. with stride 2 to go down. Decoder: 2x2x2 transposed conv,
/// concatenation with the skip, two conv blocks, and a 1x1x1 conv for the mask logits. Marker
/// heads: global average and max pooling of the bottleneck (and, by default, its average
/// weighted by the predicted tumour probability), concatenated, a shared MLP and one logit per
/// marker (IDH, 1p/19q, MGMT, high grade), or three for 3-class grade. Parameter groups: the
/// encoder, the mask decoder (up-convolutions, decoder blocks, mask head), the marker trunk (the
/// MLP's hidden layer) and one group per marker (its rows of the output layer).
class MultiTaskUNet3DImpl : public Model {
 public:
  explicit MultiTaskUNet3DImpl(MultiTaskUNet3DOptions options = {});

  /// `x`: [B, in_channels, D, H, W] with D, H, W divisible by 2^(depth-1).
  MultiTaskOutput forward(const torch::Tensor& x) override;

  /// Floating-point operations of one forward pass over a (D, H, W) = `size` input, counting the
  /// convolutions and linear layers (2 per multiply-add); normalisation and activations, a few
  /// percent, are left out. A training step costs about three times this (forward + backward).
  double forward_flops(const std::array<std::int64_t, 3>& size) const override;

  std::vector<ParameterGroup> parameter_groups() const override;

  /// 2^(depth-1): each level halves the edge.
  std::int64_t size_multiple() const override { return std::int64_t{1} << (options_.depth() - 1); }

  /// Width of the pooled feature vector the marker heads see.
  std::int64_t pooled_features() const;

  const MultiTaskUNet3DOptions& options() const { return options_; }

  /// The generator of the dropout masks (a CPU generator; masks are drawn on the CPU and moved
  /// to the model's device, so CPU and CUDA draw the same masks). Training with dropout > 0
  /// without one is an error. Set by the worker for each client's local training.
  void set_dropout_generator(std::optional<at::Generator> generator) override {
    dropout_generator_ = std::move(generator);
  }

 private:
  std::int64_t channels(std::int64_t level) const;
  std::int64_t head_outputs() const;
  torch::Tensor dropout(const torch::Tensor& x);

  MultiTaskUNet3DOptions options_;
  torch::nn::ModuleList encoder_{nullptr};     ///< one Sequential per level
  torch::nn::ModuleList upsample_{nullptr};    ///< one ConvTranspose3d per decoder level
  torch::nn::ModuleList decoder_{nullptr};     ///< one Sequential per decoder level
  torch::nn::Conv3d mask_head_{nullptr};
  torch::nn::Sequential marker_head_{nullptr};
  torch::Tensor log_variance_;
  std::optional<at::Generator> dropout_generator_;
};

TORCH_MODULE(MultiTaskUNet3D);

/// The network options of a config's `model` section.
MultiTaskUNet3DOptions unet_options(const ModelConfig& config);

}  // namespace fedglioma::models
