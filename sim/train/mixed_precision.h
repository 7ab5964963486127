#pragma once

#include <ATen/core/Tensor.h>
#include <c10/core/Device.h>
#include <c10/core/ScalarType.h>

#include <vector>

namespace fedglioma::sim {

/// Automatic mixed precision for the forward passes inside its scope (train.mixed_precision):
/// on CUDA, float16 autocast; on the CPU, bfloat16 autocast (whose float32-sized exponent needs
/// no loss scaling). Restores the thread's previous autocast state when it ends; the autocast
/// state is per thread, so workers do not see each other's.
class AutocastScope {
 public:
  AutocastScope(const c10::Device& device, bool enabled);
  ~AutocastScope();
  AutocastScope(const AutocastScope&) = delete;
  AutocastScope& operator=(const AutocastScope&) = delete;

 private:
  bool enabled_ = false;
  bool cuda_ = false;
  bool previous_ = false;
  c10::ScalarType previous_cpu_dtype_ = c10::ScalarType::BFloat16;
};

/// Whether autocast is on for `device`'s type (CUDA or CPU) on this thread.
bool autocast_enabled(const c10::Device& device);

/// Dynamic loss scaling for float16 training, with torch.cuda.amp.GradScaler's rule and defaults:
/// the loss is multiplied by `scale` before backward; the gradients are divided back before the
/// step; a step whose gradients hold inf or NaN is skipped and the scale halved; after
/// `growth_interval` consecutive good steps the scale doubles. Disabled, it changes nothing.
class GradScaler {
 public:
  explicit GradScaler(bool enabled, double init_scale = 65536.0, int growth_interval = 2000);

  /// `loss` times the current scale (the loss itself when disabled).
  at::Tensor scale(const at::Tensor& loss) const;

  /// Divides the gradients of `parameters` by the scale and updates the scale. Returns whether
  /// the optimizer may step: false when a gradient is not finite (the step must be skipped).
  bool unscale_and_update(const std::vector<at::Tensor>& parameters);

  double current_scale() const { return scale_; }
  bool enabled() const { return enabled_; }

 private:
  bool enabled_;
  double scale_;
  int growth_interval_;
  int good_steps_ = 0;
};

}  // namespace fedglioma::sim
