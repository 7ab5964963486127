#pragma once

#include <ATen/core/Generator.h>
#include <torch/nn/module.h>

#include <array>
#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace fedglioma::models {

/// What every model returns for a batch of B cases.
struct MultiTaskOutput {
  torch::Tensor mask_logits;    ///< [B, R, D, H, W] logits per voxel: R = 1, the whole tumour, or R = 3
                                ///< (model.segmentation "brats_regions"): whole tumour, core, enhancing
  torch::Tensor marker_logits;  ///< [B, 4] one logit per marker, in kMarkers order; with
                                ///< 3-class grade, column 3 is the logit of P(grade 4)
  torch::Tensor grade_logits;   ///< [B, 3] logits of WHO grade 2, 3, 4; undefined with 2 classes
  torch::Tensor log_variance;   ///< [5] s_t for mask and markers; undefined without task_uncertainty
};

/// Rows [begin, end) along dimension 0 of the parameter `name` (as named_parameters() names it);
/// end = -1: to the last row. A one-dimensional parameter's rows are its elements.
struct ParameterSlice {
  std::string name;
  std::int64_t begin = 0;
  std::int64_t end = -1;
};

/// A named part of a model's parameters that strategies treat as one (kept local, weighted by
/// the cases that label it). Every model's groups cover each parameter element exactly once.
struct ParameterGroup {
  std::string name;
  std::vector<ParameterSlice> slices;
};

/// The names of the groups every model provides (a model may split its parameters further, and
/// then lists its own names in its documentation): the shared encoder, the mask decoder (with the
/// mask's task weight), the marker trunk shared by every marker, and one group per marker
/// ("marker:" + its kMarkers name) with that marker's output rows and task weight.
inline constexpr const char* kEncoderGroup = "encoder";
inline constexpr const char* kMaskDecoderGroup = "mask_decoder";
inline constexpr const char* kMarkerTrunkGroup = "marker_trunk";
std::string marker_group(const std::string& marker);

/// Fills `out`'s marker_logits (and grade_logits) from a marker output layer's `logits`: [B, 4],
/// or [B, 6] with 3-class grade (columns 3-5 the logits of grades 2, 3, 4; marker_logits' column 3
/// becomes the logit of P(grade 4), log P(4) - log(P(2) + P(3)), which every binary consumer reads).
void set_marker_logits(MultiTaskOutput& out, const torch::Tensor& logits);

/// The interface through which training, evaluation, prediction and strategies use a network.
/// Models are built by models/model_factory from a config's `model` section.
class Model : public torch::nn::Module {
 public:
  using torch::nn::Module::Module;

  /// `x`: [B, 4, D, H, W], D, H and W divisible by size_multiple().
  virtual MultiTaskOutput forward(const torch::Tensor& x) = 0;

  /// Floating-point operations of one forward pass over a (D, H, W) = `size` input (2 per
  /// multiply-add; a training step costs about three times this); NaN when the model cannot count
  /// them (a TorchScript network).
  virtual double forward_flops(const std::array<std::int64_t, 3>& size) const = 0;

  /// The parameter groups, covering every parameter element exactly once; empty when the model
  /// has none (a TorchScript network whose names are not the documented ones), and then
  /// missing_groups() says why.
  virtual std::vector<ParameterGroup> parameter_groups() const = 0;
  virtual std::string missing_groups() const { return {}; }

  /// The names (as named_modules() gives them) of the normalisation layers, whose parameters and
  /// buffers FedBN keeps with each client. By default the modules that are torch::nn's
  /// InstanceNorm3d, BatchNorm3d or GroupNorm.
  virtual std::set<std::string> norm_layers() const;

  /// The number each input edge must be divisible by.
  virtual std::int64_t size_multiple() const = 0;

  /// The generator of the model's random draws while training (dropout masks): the client's
  /// own, set by the worker for each client's local training; nullopt afterwards.
  virtual void set_dropout_generator(std::optional<at::Generator> generator) = 0;
};

}  // namespace fedglioma::models
