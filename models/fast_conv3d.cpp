#include "models/fast_conv3d.h"

#include <ATen/Context.h>
#include <ATen/ops/convolution_backward.h>
#include <ATen/ops/mkldnn_convolution.h>
#include <torch/autograd.h>

#include "core/autocast_switch.h"

namespace fedglioma::models {
namespace {

// ATen 1.13's bound on N*C*D*H under which a batch-1 convolution takes the native kernel.
constexpr std::int64_t kNativeConvThreshold = 20480;

struct FastConv3dFunction : public torch::autograd::Function<FastConv3dFunction> {
  static torch::Tensor forward(torch::autograd::AutogradContext* ctx, const torch::Tensor& x,
                               const torch::Tensor& weight, std::int64_t stride) {
    ctx->save_for_backward({x, weight});
    ctx->saved_data["stride"] = stride;
    return at::mkldnn_convolution(x, weight, c10::nullopt, {1, 1, 1}, {stride, stride, stride}, {1, 1, 1}, 1);
  }

  static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx,
                                                 torch::autograd::variable_list grad) {
    const auto saved = ctx->get_saved_variables();
    torch::Tensor x = saved[0], g = grad[0];
    const std::int64_t stride = ctx->saved_data["stride"].toInt();
    const bool pad = x.size(0) == 1 && x.size(1) * x.size(2) * x.size(3) <= kNativeConvThreshold;
    if (pad) {
      x = torch::cat({x, torch::zeros_like(x)});
      g = torch::cat({g, torch::zeros_like(g)});
    }
    const auto grads =
        at::convolution_backward(g, x, saved[1], c10::nullopt, {stride, stride, stride}, {1, 1, 1}, {1, 1, 1}, false,
                                 {0, 0, 0}, 1, {ctx->needs_input_grad(0), ctx->needs_input_grad(1), false});
    torch::Tensor grad_x = std::get<0>(grads);
    if (pad && grad_x.defined()) grad_x = grad_x.slice(0, 0, 1);
    return {grad_x, std::get<1>(grads), torch::Tensor()};
  }
};

}  // namespace

FastConv3dImpl::FastConv3dImpl(std::int64_t in, std::int64_t out, std::int64_t stride)
    : torch::nn::Conv3dImpl(torch::nn::Conv3dOptions(in, out, 3).stride(stride).padding(1).bias(false)),
      stride_(stride) {}

torch::Tensor FastConv3dImpl::forward(const torch::Tensor& x) {
  if (!(x.is_cpu() && x.scalar_type() == torch::kFloat32 && at::hasMKLDNN() && !autocast_enabled(c10::kCPU)))
    return torch::nn::Conv3dImpl::forward(x);
  return FastConv3dFunction::apply(x, weight, stride_);
}

}  // namespace fedglioma::models
