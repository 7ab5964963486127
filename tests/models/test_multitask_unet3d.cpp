#include <catch2/catch.hpp>

#include <torch/nn.h>
#include <torch/types.h>

#include "models/multitask_unet3d.h"
#include "tests/support/fixtures.h"

using fedglioma::models::MultiTaskUNet3D;
using fedglioma::models::MultiTaskUNet3DOptions;

TEST_CASE("MultiTaskUNet3D output shapes over a grid of options", "[models]") {
  fedglioma::testing::seed_torch();
  for (std::int64_t depth : {1, 2, 3}) {
    for (const char* norm : {"instance", "group", "batch"}) {
      for (std::int64_t base : {2, 4}) {
        // Prepare
        MultiTaskUNet3D model(MultiTaskUNet3DOptions().depth(depth).base_channels(base).norm(norm).head_hidden(8));
        const auto x = torch::randn({2, 4, 16, 8, 16});
        // Execute
        const auto out = model->forward(x);
        // Assert
        INFO("depth " << depth << " norm " << norm << " base " << base);
        REQUIRE(out.mask_logits.sizes() == torch::IntArrayRef({2, 1, 16, 8, 16}));
        REQUIRE(out.marker_logits.sizes() == torch::IntArrayRef({2, 4}));
      }
    }
  }
}

TEST_CASE("MultiTaskUNet3D caps the channel count", "[models]") {
  MultiTaskUNet3D capped(MultiTaskUNet3DOptions().depth(3).base_channels(4).max_channels(6));
  MultiTaskUNet3D uncapped(MultiTaskUNet3DOptions().depth(3).base_channels(4).max_channels(64));
  auto count = [](const MultiTaskUNet3D& m) {
    std::int64_t n = 0;
    for (const auto& p : m->parameters()) n += p.numel();
    return n;
  };
  REQUIRE(count(capped) < count(uncapped));
  REQUIRE(capped->forward(torch::randn({1, 4, 8, 8, 8})).mask_logits.size(1) == 1);
}

TEST_CASE("MultiTaskUNet3D rejects bad options and inputs naming them", "[models]") {
  REQUIRE_THROWS_WITH(MultiTaskUNet3D(MultiTaskUNet3DOptions().depth(0)), Catch::Contains("depth"));
  REQUIRE_THROWS_WITH(MultiTaskUNet3D(MultiTaskUNet3DOptions().norm("layer")), Catch::Contains("norm"));
  REQUIRE_THROWS_WITH(MultiTaskUNet3D(MultiTaskUNet3DOptions().base_channels(0)), Catch::Contains("base_channels"));
  MultiTaskUNet3D model(MultiTaskUNet3DOptions().depth(3).base_channels(2));
  REQUIRE_THROWS_WITH(model->forward(torch::randn({1, 4, 10, 16, 16})), Catch::Contains("divisible by 4"));
  REQUIRE_THROWS_WITH(model->forward(torch::randn({1, 3, 16, 16, 16})), Catch::Contains("expected input"));
}

TEST_CASE("marker heads can pool every encoder level", "[models]") {
  fedglioma::testing::seed_torch();
  MultiTaskUNet3D bottleneck(MultiTaskUNet3DOptions().depth(3).base_channels(2).head_hidden(8));
  MultiTaskUNet3D all(MultiTaskUNet3DOptions().depth(3).base_channels(2).head_hidden(8).head_features("all_levels"));
  // Pooled widths: bottleneck 3 x 8 = 24; every level 2 x (2 + 4 + 8) + 8 = 36.
  REQUIRE(bottleneck->pooled_features() == 24);
  REQUIRE(all->pooled_features() == 36);
  const auto out = all->forward(torch::randn({2, 4, 8, 8, 8}));
  REQUIRE(out.marker_logits.sizes() == torch::IntArrayRef({2, 4}));
  REQUIRE(all->forward_flops({8, 8, 8}) > bottleneck->forward_flops({8, 8, 8}));
  REQUIRE_THROWS_WITH(MultiTaskUNet3D(MultiTaskUNet3DOptions().head_features("levels")), Catch::Contains("head_features"));
}
