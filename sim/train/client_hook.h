#pragma once

#include <memory>
#include <optional>
#include <vector>

#include "core/aggregate.h"

namespace at {
class Tensor;
}
namespace c10 {
struct Device;
}

namespace fedglioma::sim {

class ClientHook;

/// A second pass a client trains after its contribution to the global model (Ditto's personal
/// model): where it starts and its own hook (null: plain training). It sees the same data order
/// and augmentation draws as the first pass, with a fresh optimizer.
struct PersonalPass {
  FlatParams start;
  std::shared_ptr<ClientHook> hook;
};

/// The client half of a strategy: what it adds to one client's local training (FedProx's
/// proximal term, SCAFFOLD's gradient correction, FedRep's phases, Ditto's personal model), the
/// way MONAI's ClientAlgo is the client side of its federations. The trainer (train_client) calls
/// it at fixed points of a pass; a strategy's configure() makes one per task, used by one worker
/// thread only. Every default adds nothing, so a strategy without a client side needs no hook.
class ClientHook {
 public:
  virtual ~ClientHook() = default;
  /// The pass begins: `parameters` are the worker replica's, already holding the start weights,
  /// on `device` (where the hook's own tensors belong).
  virtual void begin(const std::vector<at::Tensor>& parameters, const c10::Device& device) {}
  /// Before each local epoch (0-based).
  virtual void begin_epoch(int epoch) {}
  /// After the backward pass (gradients unscaled), before gradient clipping and the optimizer
  /// step: add terms to the gradients, or mask them.
  virtual void adjust_gradients() {}
  /// After each optimizer step.
  virtual void after_step() {}
  /// The pass to train after this one (Ditto's personal model), or none.
  virtual std::optional<PersonalPass> personal_pass() const { return std::nullopt; }
};

/// The proximal term mu/2 ||w - anchor||^2 (FedProx, Li et al. 2020; Ditto's personal objective):
/// adds mu (w - anchor) to every parameter's gradient.
std::shared_ptr<ClientHook> proximal_hook(double mu, FlatParams anchor);

/// SCAFFOLD's gradient correction (Karimireddy et al. 2020): adds `correction` (c - c_i, a flat
/// buffer over the parameters) to every parameter's gradient.
std::shared_ptr<ClientHook> correction_hook(FlatParams correction);

/// A flat buffer as one tensor per parameter, shaped like `parameters`, on `device` (parameters
/// lead the flat buffer, in parameters() order); empty for an empty buffer. On the CPU the views
/// alias `flat`, which must outlive them.
std::vector<at::Tensor> parameter_views(const FlatParams& flat, const std::vector<at::Tensor>& parameters,
                                        const c10::Device& device);

}  // namespace fedglioma::sim
