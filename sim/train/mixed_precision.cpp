#include "sim/train/mixed_precision.h"

#include <ATen/autocast_mode.h>
#include <torch/types.h>

#include "core/autocast_switch.h"

namespace fedglioma::sim {

bool autocast_enabled(const c10::Device& device) { return fedglioma::autocast_enabled(device.type()); }

AutocastScope::AutocastScope(const c10::Device& device, bool enabled) : enabled_(enabled), cuda_(device.is_cuda()) {
  if (!enabled_) return;
  const c10::DeviceType type = cuda_ ? c10::kCUDA : c10::kCPU;
  previous_ = fedglioma::autocast_enabled(type);
  if (!cuda_) {
    previous_cpu_dtype_ = cpu_autocast_dtype();
    set_cpu_autocast_dtype(at::kBFloat16);
  }
  set_autocast_enabled(type, true);
  at::autocast::increment_nesting();
}

AutocastScope::~AutocastScope() {
  if (!enabled_) return;
  // As torch.autocast's __exit__: the cast-weight cache lives as long as the outermost scope.
  if (at::autocast::decrement_nesting() == 0) at::autocast::clear_cache();
  set_autocast_enabled(cuda_ ? c10::kCUDA : c10::kCPU, previous_);
  if (!cuda_) set_cpu_autocast_dtype(previous_cpu_dtype_);
}

GradScaler::GradScaler(bool enabled, double init_scale, int growth_interval)
    : enabled_(enabled), scale_(enabled ? init_scale : 1.0), growth_interval_(growth_interval) {}

at::Tensor GradScaler::scale(const at::Tensor& loss) const { return enabled_ ? loss * scale_ : loss; }

bool GradScaler::unscale_and_update(const std::vector<at::Tensor>& parameters) {
  if (!enabled_) return true;
  torch::NoGradGuard no_grad;
  std::vector<at::Tensor> finite;  // one flag per gradient, read back once (a single device sync)
  for (const at::Tensor& p : parameters) {
    const at::Tensor& grad = p.grad();
    if (!grad.defined()) continue;
    grad.mul_(1.0 / scale_);
    finite.push_back(grad.isfinite().all());
  }
  if (!finite.empty() && !torch::stack(finite).all().item<bool>()) {
    scale_ *= 0.5;  // backoff_factor
    good_steps_ = 0;
    return false;
  }
  if (++good_steps_ == growth_interval_) {
    scale_ *= 2.0;  // growth_factor
    good_steps_ = 0;
  }
  return true;
}

}  // namespace fedglioma::sim
