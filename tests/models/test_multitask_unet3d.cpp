#include <catch2/catch.hpp>

#include <ATen/CPUGeneratorImpl.h>
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

TEST_CASE("MultiTaskUNet3D head options combine over a grid", "[models]") {
  fedglioma::testing::seed_torch();
  for (const char* features : {"bottleneck", "all_levels"}) {
    for (std::int64_t grades : {2, 3}) {
      for (bool uncertainty : {false, true}) {
        MultiTaskUNet3D model(MultiTaskUNet3DOptions()
                                  .depth(2)
                                  .base_channels(2)
                                  .head_hidden(8)
                                  .head_features(features)
                                  .grade_classes(grades)
                                  .dropout(0.2)
                                  .task_uncertainty(uncertainty));
        model->set_dropout_generator(at::detail::createCPUGenerator(3));
        const auto out = model->forward(torch::randn({2, 4, 8, 8, 8}));
        INFO(features << " grades " << grades << " uncertainty " << uncertainty);
        REQUIRE(out.marker_logits.sizes() == torch::IntArrayRef({2, 4}));
        REQUIRE(out.grade_logits.defined() == (grades == 3));
        REQUIRE(out.log_variance.defined() == uncertainty);
        REQUIRE(model->forward_flops({8, 8, 8}) > 0);
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

TEST_CASE("3-class grade gives grade logits whose P(grade 4) is the fourth marker's sigmoid", "[models]") {
  fedglioma::testing::seed_torch();
  MultiTaskUNet3D model(MultiTaskUNet3DOptions().depth(2).base_channels(2).head_hidden(8).grade_classes(3));
  const auto out = model->forward(torch::randn({3, 4, 8, 8, 8}));
  REQUIRE(out.marker_logits.sizes() == torch::IntArrayRef({3, 4}));
  REQUIRE(out.grade_logits.sizes() == torch::IntArrayRef({3, 3}));
  const auto p4 = torch::softmax(out.grade_logits, 1).select(1, 2);
  REQUIRE(torch::allclose(torch::sigmoid(out.marker_logits.select(1, 3)), p4, 1e-5, 1e-6));
  REQUIRE_FALSE(MultiTaskUNet3D(MultiTaskUNet3DOptions().depth(2).base_channels(2))->forward(
                    torch::randn({1, 4, 8, 8, 8})).grade_logits.defined());
  REQUIRE_THROWS_WITH(MultiTaskUNet3D(MultiTaskUNet3DOptions().grade_classes(4)), Catch::Contains("grade_classes"));
}

TEST_CASE("dropout masks come from the generator given, never the global one", "[models]") {
  fedglioma::testing::seed_torch();
  MultiTaskUNet3D model(MultiTaskUNet3DOptions().depth(2).base_channels(2).head_hidden(16).dropout(0.5));
  const auto x = torch::randn({2, 4, 8, 8, 8});
  model->train();
  REQUIRE_THROWS_WITH(model->forward(x), Catch::Contains("generator"));

  auto logits = [&](std::uint64_t seed) {
    model->set_dropout_generator(at::detail::createCPUGenerator(seed));
    torch::manual_seed(99);  // the global generator moves between calls: it must not matter
    const auto a = model->forward(x).marker_logits;
    torch::manual_seed(7);
    return a;
  };
  REQUIRE(torch::equal(logits(1), logits(1)));
  REQUIRE_FALSE(torch::equal(logits(1), logits(2)));
  // In evaluation mode dropout is the identity: no generator needed, same result every time.
  model->set_dropout_generator(std::nullopt);
  model->eval();
  REQUIRE(torch::equal(model->forward(x).marker_logits, model->forward(x).marker_logits));
  REQUIRE_THROWS_WITH(MultiTaskUNet3D(MultiTaskUNet3DOptions().dropout(1.0)), Catch::Contains("dropout"));
}

TEST_CASE("task uncertainty adds one learned log variance per task", "[models]") {
  MultiTaskUNet3D plain(MultiTaskUNet3DOptions().depth(2).base_channels(2));
  MultiTaskUNet3D learned(MultiTaskUNet3DOptions().depth(2).base_channels(2).task_uncertainty(true));
  const auto out = learned->forward(torch::randn({1, 4, 8, 8, 8}));
  REQUIRE(out.log_variance.sizes() == torch::IntArrayRef({5}));
  REQUIRE(learned->named_parameters().contains("task_log_variance"));
  REQUIRE_FALSE(plain->named_parameters().contains("task_log_variance"));
  REQUIRE_FALSE(plain->forward(torch::randn({1, 4, 8, 8, 8})).log_variance.defined());
}
