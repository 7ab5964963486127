#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "models/model.h"
#include "models/model_config.h"
#include "models/named_groups.h"

namespace fedglioma::models {

/// A network scripted in Python (torch.jit.script or torch.jit.trace, then torch.jit.save),
/// trained like the built-in one (docs/model.md, "Bring your own network"). The contract: the
/// module's forward takes x [N, 4, D, H, W] (float32; T1, T1c, T2, FLAIR) and returns a tuple
/// (mask logits [N, 1, D, H, W], or [N, 3, D, H, W] with model.segmentation "brats_regions";
/// marker logits [N, 4], or [N, 6] with 3-class grade); an
/// optional int attribute `size_multiple` says what D, H and W must be divisible by (default
/// 1); in training mode it draws no random numbers (no dropout: fedglioma's runs are identical
/// whatever the worker count, and the client's generator cannot reach a scripted module).
///
/// The module's parameters and buffers are registered here under their own names (nested
/// modules named by the dots), as the very same tensors: optimisers, flatten_state, load_state,
/// checkpoints and model.pt see the network as they see the built-in one. The scripted graph
/// runs without the JIT's optimisation passes (no fusion), so its numbers are those of the same
/// ATen operations run eagerly, on every call and in every worker.
class TorchScriptModel : public Model {
 public:
  /// Loads `config.path` and checks the contract on a small batch in evaluation and in training
  /// mode. Throws ConfigError naming model.path, the file and what is wrong.
  explicit TorchScriptModel(const ModelConfig& config);
  ~TorchScriptModel() override;

  MultiTaskOutput forward(const torch::Tensor& x) override;
  /// NaN: a scripted graph's operations are not counted.
  double forward_flops(const std::array<std::int64_t, 3>& size) const override;
  std::vector<ParameterGroup> parameter_groups() const override { return groups_.groups; }
  std::string missing_groups() const override;
  /// The scripted submodules whose class is torch.nn's BatchNorm*, InstanceNorm*, GroupNorm or
  /// LayerNorm.
  std::set<std::string> norm_layers() const override;
  std::int64_t size_multiple() const override { return size_multiple_; }
  /// A scripted network draws nothing while training (its contract); nothing to set.
  void set_dropout_generator(std::optional<at::Generator>) override {}
  void train(bool on = true) override;

 private:
  struct Script;
  MultiTaskOutput call(const torch::Tensor& x);
  void register_tensors();
  void check_contract(const ModelConfig& config);

  std::string path_;
  std::unique_ptr<Script> script_;
  std::int64_t size_multiple_ = 1;
  NamedGroups groups_;
};

}  // namespace fedglioma::models
