#include "models/multitask_unet3d.h"

#include <torch/nn/functional/pooling.h>
#include <torch/nn/modules/activation.h>
#include <torch/nn/modules/batchnorm.h>
// LibTorch 1.13's module header uses the functional one without including it (GCC tolerates it).
#include <torch/nn/functional/instancenorm.h>
#include <torch/nn/modules/instancenorm.h>
#include <torch/nn/modules/linear.h>
#include <torch/nn/modules/normalization.h>

#include <ATen/CPUGeneratorImpl.h>

#include <algorithm>

#include "core/markers.h"
#include "models/fast_conv3d.h"
#include "models/named_groups.h"

namespace fedglioma::models {
namespace {

namespace nn = torch::nn;


nn::AnyModule make_norm(const std::string& kind, std::int64_t channels) {
  if (kind == "instance") return nn::AnyModule(nn::InstanceNorm3d(nn::InstanceNorm3dOptions(channels).affine(true)));
  if (kind == "batch") return nn::AnyModule(nn::BatchNorm3d(nn::BatchNorm3dOptions(channels)));
  // Group norm with up to 8 groups that divide the channel count.
  std::int64_t groups = std::min<std::int64_t>(8, channels);
  while (channels % groups != 0) --groups;
  return nn::AnyModule(nn::GroupNorm(nn::GroupNormOptions(groups, channels)));
}

// conv -> norm -> LeakyReLU(0.01), appended to `seq`.
void add_conv_block(nn::Sequential& seq, const std::string& norm, std::int64_t in, std::int64_t out,
                    std::int64_t stride) {
  seq->push_back(FastConv3d(in, out, stride));
  seq->push_back(make_norm(norm, out));
  seq->push_back(nn::LeakyReLU(nn::LeakyReLUOptions().negative_slope(0.01)));
}

}  // namespace

MultiTaskUNet3DImpl::MultiTaskUNet3DImpl(MultiTaskUNet3DOptions options) : options_(std::move(options)) {
  TORCH_CHECK(options_.in_channels() >= 1, "MultiTaskUNet3D: in_channels must be >= 1, got ", options_.in_channels());
  TORCH_CHECK(options_.depth() >= 1 && options_.depth() <= 7, "MultiTaskUNet3D: depth must be in [1, 7], got ",
              options_.depth());
  TORCH_CHECK(options_.base_channels() >= 1, "MultiTaskUNet3D: base_channels must be >= 1, got ",
              options_.base_channels());
  TORCH_CHECK(options_.max_channels() >= options_.base_channels(),
              "MultiTaskUNet3D: max_channels must be >= base_channels, got ", options_.max_channels());
  TORCH_CHECK(options_.norm() == "instance" || options_.norm() == "group" || options_.norm() == "batch",
              "MultiTaskUNet3D: norm must be instance, group or batch, got '", options_.norm(), "'");
  TORCH_CHECK(options_.head_hidden() >= 1, "MultiTaskUNet3D: head_hidden must be >= 1, got ",
              options_.head_hidden());
  TORCH_CHECK(options_.head_features() == "bottleneck" || options_.head_features() == "all_levels",
              "MultiTaskUNet3D: head_features must be bottleneck or all_levels, got '", options_.head_features(), "'");
  TORCH_CHECK(options_.grade_classes() == 2 || options_.grade_classes() == 3,
              "MultiTaskUNet3D: grade_classes must be 2 or 3, got ", options_.grade_classes());
  TORCH_CHECK(options_.dropout() >= 0.0 && options_.dropout() < 1.0, "MultiTaskUNet3D: dropout must be in [0, 1), got ",
              options_.dropout());
  TORCH_CHECK(options_.mask_outputs() == 1 || options_.mask_outputs() == 3,
              "MultiTaskUNet3D: mask_outputs must be 1 or 3, got ", options_.mask_outputs());

  const std::int64_t depth = options_.depth();
  const std::string& norm = options_.norm();
  encoder_ = register_module("encoder", nn::ModuleList());
  for (std::int64_t level = 0; level < depth; ++level) {
    nn::Sequential stage;
    const std::int64_t in = level == 0 ? options_.in_channels() : channels(level - 1);
    add_conv_block(stage, norm, in, channels(level), level == 0 ? 1 : 2);
    add_conv_block(stage, norm, channels(level), channels(level), 1);
    encoder_->push_back(stage);
  }
  upsample_ = register_module("upsample", nn::ModuleList());
  decoder_ = register_module("decoder", nn::ModuleList());
  for (std::int64_t level = depth - 2; level >= 0; --level) {
    upsample_->push_back(nn::ConvTranspose3d(
        nn::ConvTranspose3dOptions(channels(level + 1), channels(level), 2).stride(2).bias(false)));
    nn::Sequential stage;
    add_conv_block(stage, norm, 2 * channels(level), channels(level), 1);
    add_conv_block(stage, norm, channels(level), channels(level), 1);
    decoder_->push_back(stage);
  }
  mask_head_ = register_module("mask_head", nn::Conv3d(nn::Conv3dOptions(channels(0), options_.mask_outputs(), 1)));
  const std::int64_t pooled = pooled_features();
  marker_head_ = register_module(
      "marker_head",
      nn::Sequential(nn::Linear(pooled, options_.head_hidden()),
                     nn::LeakyReLU(nn::LeakyReLUOptions().negative_slope(0.01)),
                     nn::Linear(options_.head_hidden(), head_outputs())));
  if (options_.task_uncertainty()) log_variance_ = register_parameter("task_log_variance", torch::zeros({5}));
}

std::int64_t MultiTaskUNet3DImpl::head_outputs() const {
  return static_cast<std::int64_t>(kMarkers.size()) - 1 + (options_.grade_classes() == 3 ? 3 : 1);
}

torch::Tensor MultiTaskUNet3DImpl::dropout(const torch::Tensor& x) {
  if (!is_training() || options_.dropout() == 0.0) return x;
  TORCH_CHECK(dropout_generator_.has_value(),
              "MultiTaskUNet3D: training with dropout needs the client's generator (set_dropout_generator); "
              "the global generator is never used");
  const double keep = 1.0 - options_.dropout();
  torch::Tensor mask = torch::empty(x.sizes(), torch::TensorOptions().dtype(torch::kFloat32));
  mask.bernoulli_(keep, *dropout_generator_);
  return x * mask.div_(keep).to(x.device(), x.scalar_type());
}

std::int64_t MultiTaskUNet3DImpl::pooled_features() const {
  const std::int64_t deepest = channels(options_.depth() - 1);
  std::int64_t pooled = options_.tumour_pooling() ? deepest : 0;
  if (options_.head_features() == "all_levels") {
    for (std::int64_t level = 0; level < options_.depth(); ++level) pooled += 2 * channels(level);
  } else {
    pooled += 2 * deepest;
  }
  return pooled;
}

std::int64_t MultiTaskUNet3DImpl::channels(std::int64_t level) const {
  return std::min(options_.base_channels() << level, options_.max_channels());
}

double MultiTaskUNet3DImpl::forward_flops(const std::array<std::int64_t, 3>& size) const {
  const std::int64_t depth = options_.depth();
  auto voxels = [&](std::int64_t level) {
    return static_cast<double>(size[0] * size[1] * size[2]) / static_cast<double>(std::int64_t{1} << (3 * level));
  };
  auto conv = [](double in, double out, double kernel_volume, double output_voxels) {
    return 2.0 * in * out * kernel_volume * output_voxels;
  };
  double flops = 0.0;
  for (std::int64_t level = 0; level < depth; ++level) {
    const double in = static_cast<double>(level == 0 ? options_.in_channels() : channels(level - 1));
    const double c = static_cast<double>(channels(level));
    flops += conv(in, c, 27, voxels(level)) + conv(c, c, 27, voxels(level));
  }
  for (std::int64_t level = depth - 2; level >= 0; --level) {
    const double c = static_cast<double>(channels(level));
    flops += conv(static_cast<double>(channels(level + 1)), c, 8, voxels(level + 1));  // transposed, per input voxel
    flops += conv(2 * c, c, 27, voxels(level)) + conv(c, c, 27, voxels(level));
  }
  flops += conv(static_cast<double>(channels(0)), static_cast<double>(options_.mask_outputs()), 1, voxels(0));
  const double pooled = static_cast<double>(pooled_features());
  flops += 2.0 * (pooled * static_cast<double>(options_.head_hidden()) +
                  static_cast<double>(options_.head_hidden()) * static_cast<double>(head_outputs()));
  return flops;
}

std::vector<ParameterGroup> MultiTaskUNet3DImpl::parameter_groups() const {
  std::vector<NamedParameter> parameters;
  for (const auto& item : named_parameters())
    parameters.push_back({item.key(), item.value().dim() == 0 ? 1 : item.value().size(0)});
  NamedGroups named = groups_by_name(parameters, head_outputs());
  TORCH_CHECK(named.problem.empty(), "MultiTaskUNet3D: ", named.problem);
  return named.groups;
}

MultiTaskOutput MultiTaskUNet3DImpl::forward(const torch::Tensor& x) {
  const std::int64_t factor = size_multiple();
  TORCH_CHECK(x.dim() == 5 && x.size(1) == options_.in_channels(),
              "MultiTaskUNet3D: expected input [B, ", options_.in_channels(), ", D, H, W], got ", x.sizes());
  TORCH_CHECK(x.size(2) % factor == 0 && x.size(3) % factor == 0 && x.size(4) % factor == 0,
              "MultiTaskUNet3D: spatial size ", x.sizes().slice(2), " must be divisible by ", factor);

  std::vector<torch::Tensor> skips;
  torch::Tensor h = x;
  for (std::size_t level = 0; level < encoder_->size(); ++level) {
    h = encoder_[level]->as<nn::Sequential>()->forward(h);
    skips.push_back(h);
  }
  const torch::Tensor bottleneck = h;
  for (std::size_t i = 0; i < decoder_->size(); ++i) {
    const torch::Tensor& skip = skips[skips.size() - 2 - i];
    h = upsample_[i]->as<nn::ConvTranspose3d>()->forward(h);
    h = decoder_[i]->as<nn::Sequential>()->forward(torch::cat({h, skip}, 1));
  }
  MultiTaskOutput out;
  out.mask_logits = mask_head_->forward(h);

  // Marker features: global average and max pooling of the bottleneck, and optionally its mean
  // over the predicted tumour (weights detached: the marker losses do not move the mask).
  std::vector<torch::Tensor> pooled;
  if (options_.head_features() == "all_levels") {
    for (const torch::Tensor& level : skips) {
      pooled.push_back(level.mean({2, 3, 4}));
      pooled.push_back(level.amax({2, 3, 4}));
    }
  } else {
    pooled = {bottleneck.mean({2, 3, 4}), bottleneck.amax({2, 3, 4})};
  }
  if (options_.tumour_pooling()) {
    torch::Tensor weight = torch::sigmoid(out.mask_logits.detach().slice(1, 0, 1));  // the whole tumour
    if (factor > 1) weight = torch::nn::functional::avg_pool3d(weight, torch::nn::functional::AvgPool3dFuncOptions(factor));
    pooled.push_back((bottleneck * weight).sum({2, 3, 4}) / (weight.sum({2, 3, 4}) + 1e-3));
  }
  torch::Tensor features = dropout(torch::cat(pooled, 1));
  features = marker_head_[1]->as<nn::LeakyReLU>()->forward(marker_head_[0]->as<nn::Linear>()->forward(features));
  const torch::Tensor logits = marker_head_[2]->as<nn::Linear>()->forward(dropout(features));
  set_marker_logits(out, logits);
  if (log_variance_.defined()) out.log_variance = log_variance_;
  return out;
}

MultiTaskUNet3DOptions unet_options(const ModelConfig& config) {
  return MultiTaskUNet3DOptions()
      .depth(config.depth)
      .base_channels(config.base_channels)
      .max_channels(config.max_channels)
      .norm(config.norm)
      .head_hidden(config.head_hidden)
      .tumour_pooling(config.tumour_pooling)
      .head_features(config.head_features)
      .grade_classes(config.grade_classes)
      .dropout(config.dropout)
      .task_uncertainty(config.task_uncertainty)
      .mask_outputs(config.segmentation == "brats_regions" ? 3 : 1);
}

}  // namespace fedglioma::models
