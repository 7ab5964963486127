#pragma once

#include <torch/nn/modules/conv.h>
#include <torch/nn/pimpl.h>

#include <cstdint>

namespace fedglioma::models {

/// A 3x3x3 convolution (padding 1, no bias) with nn::Conv3d's parameter ("weight") whose CPU
/// float32 passes always run oneDNN. LibTorch sends a CPU float32 convolution with batch 1 and
/// N*C*D*H <= 20480 (ConvParams::use_mkldnn in ATen's Convolution.cpp) to its native im2col
/// kernel: every evaluation case and one-case client at 32^3, and the deepest levels at 128^3,
/// where a training step at 32^3 ran 6x slower per sample than at batch 2 on this project's CPU
/// (BENCHMARKS.md). Here the forward calls oneDNN directly and the backward pads such a batch with
/// one zero case: with a zero output gradient it adds exactly nothing to the weight gradient, and
/// its input gradient is dropped. CUDA, other types and bfloat16 autocast take nn::Conv3d's path.
class FastConv3dImpl : public torch::nn::Conv3dImpl {
 public:
  FastConv3dImpl(std::int64_t in, std::int64_t out, std::int64_t stride);
  torch::Tensor forward(const torch::Tensor& x);

 private:
  std::int64_t stride_;
};

TORCH_MODULE(FastConv3d);

}  // namespace fedglioma::models
