#include <catch2/catch.hpp>

#include <torch/nn.h>
#include <torch/types.h>

#include "models/fast_conv3d.h"
#include "tests/support/fixtures.h"

using fedglioma::models::FastConv3d;

TEST_CASE("FastConv3d computes nn::Conv3d's output and gradients", "[models]") {
  fedglioma::testing::seed_torch(5);
  // Batch 1 small enough for ATen's native kernel (padded backward), batch 1 above its bound,
  // batch 2, and stride 2.
  struct Shape { std::int64_t batch, in, out, edge, stride; };
  for (const Shape& s : {Shape{1, 4, 6, 8, 1}, Shape{1, 8, 4, 64, 1}, Shape{2, 4, 6, 8, 1}, Shape{1, 6, 4, 8, 2}}) {
    INFO("batch " << s.batch << " in " << s.in << " edge " << s.edge << " stride " << s.stride);
    FastConv3d fast(s.in, s.out, s.stride);
    torch::nn::Conv3d plain(torch::nn::Conv3dOptions(s.in, s.out, 3).stride(s.stride).padding(1).bias(false));
    {
      torch::NoGradGuard no_grad;
      plain->weight.copy_(fast->weight);
    }
    REQUIRE(fast->named_parameters().keys() == plain->named_parameters().keys());
    const auto x = torch::randn({s.batch, s.in, s.edge, s.edge, s.edge});
    const auto x_fast = x.clone().requires_grad_(), x_plain = x.clone().requires_grad_();
    const auto y_fast = fast->forward(x_fast), y_plain = plain->forward(x_plain);
    REQUIRE(y_fast.sizes() == y_plain.sizes());
    REQUIRE(torch::allclose(y_fast, y_plain, 1e-4, 1e-4));
    const auto target = torch::randn(y_plain.sizes());
    (y_fast * target).sum().backward();
    (y_plain * target).sum().backward();
    REQUIRE(x_fast.grad().sizes() == x.sizes());
    REQUIRE(torch::allclose(x_fast.grad(), x_plain.grad(), 1e-4, 1e-4));
    REQUIRE(torch::allclose(fast->weight.grad(), plain->weight.grad(), 1e-3, 1e-3));
  }
}
