#include <catch2/catch.hpp>

#include <ATen/autocast_mode.h>
#include <torch/nn.h>
#include <torch/types.h>

#include <limits>

#include "sim/train/mixed_precision.h"
#include "tests/support/fixtures.h"

using fedglioma::sim::AutocastScope;
using fedglioma::sim::GradScaler;

TEST_CASE("autocast runs convolutions in bfloat16 on the CPU inside its scope only", "[sim][mixed_precision][may_skip]") {
  if (fedglioma::testing::ran_in_native_child("autocast runs convolutions in bfloat16 on the CPU inside its scope only"))
    return;
  torch::nn::Conv3d conv(torch::nn::Conv3dOptions(2, 3, 3).padding(1));
  const auto x = torch::randn({1, 2, 4, 4, 4});
  {
    AutocastScope scope(c10::Device(c10::kCPU), true);
    REQUIRE(conv->forward(x).scalar_type() == torch::kBFloat16);
    {
      AutocastScope disabled(c10::Device(c10::kCPU), false);  // a disabled scope changes nothing
      REQUIRE(conv->forward(x).scalar_type() == torch::kBFloat16);
    }
  }
  REQUIRE_FALSE(fedglioma::sim::autocast_enabled(c10::Device(c10::kCPU)));
  REQUIRE(conv->forward(x).scalar_type() == torch::kFloat32);
}

TEST_CASE("the gradient scaler unscales, skips non-finite steps and grows the scale", "[sim][mixed_precision]") {
  auto p = torch::zeros({3}, torch::requires_grad());
  auto set_grad = [&](std::vector<float> values) { p.mutable_grad() = torch::tensor(values); };

  GradScaler scaler(true, 8.0, /*growth_interval=*/2);
  REQUIRE(scaler.scale(torch::tensor(1.5)).item<double>() == 12.0);
  set_grad({8.f, 16.f, -4.f});
  REQUIRE(scaler.unscale_and_update({p}));
  REQUIRE(torch::equal(p.grad(), torch::tensor({1.f, 2.f, -0.5f})));
  REQUIRE(scaler.current_scale() == 8.0);

  // An overflow: the step is to be skipped and the scale halves; the count of good steps restarts.
  set_grad({std::numeric_limits<float>::infinity(), 0.f, 0.f});
  REQUIRE_FALSE(scaler.unscale_and_update({p}));
  REQUIRE(scaler.current_scale() == 4.0);
  set_grad({0.f, std::numeric_limits<float>::quiet_NaN(), 0.f});
  REQUIRE_FALSE(scaler.unscale_and_update({p}));
  REQUIRE(scaler.current_scale() == 2.0);

  // Two good steps in a row (growth_interval): the scale doubles.
  set_grad({2.f, 2.f, 2.f});
  REQUIRE(scaler.unscale_and_update({p}));
  REQUIRE(scaler.current_scale() == 2.0);
  set_grad({2.f, 2.f, 2.f});
  REQUIRE(scaler.unscale_and_update({p}));
  REQUIRE(scaler.current_scale() == 4.0);

  // Disabled: the loss and the gradients are left alone, every step goes ahead.
  GradScaler off(false);
  REQUIRE(off.scale(torch::tensor(1.5)).item<double>() == 1.5);
  set_grad({std::numeric_limits<float>::infinity(), 1.f, 1.f});
  REQUIRE(off.unscale_and_update({p}));
  REQUIRE(p.grad()[1].item<float>() == 1.f);
}
