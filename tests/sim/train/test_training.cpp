// Local training options: optimizers, learning-rate schedules over rounds, gradient clipping.
#include <catch2/catch.hpp>

#include <cmath>

#include <torch/types.h>

#include "core/random.h"
#include "sim/train/batch.h"
#include "sim/train/client_training.h"
#include "tests/support/fixtures.h"

using fedglioma::testing::metrics_of;
using fedglioma::testing::read_rounds;
using fedglioma::testing::tiny_run;
using fedglioma::sim::TrainConfig;

TEST_CASE("learning-rate schedules follow their formulas over the rounds", "[sim][training]") {
  TrainConfig t;
  t.lr = 0.01;
  REQUIRE(fedglioma::sim::round_lr(t, 7, 10) == 0.01);  // constant
  t.lr_schedule = "cosine";
  t.lr_min = 0.001;
  REQUIRE(fedglioma::sim::round_lr(t, 1, 10) == Approx(0.01));
  REQUIRE(fedglioma::sim::round_lr(t, 6, 10) == Approx(0.001 + 0.5 * 0.009 * (1 + std::cos(M_PI * 0.5))));
  REQUIRE(fedglioma::sim::round_lr(t, 10, 10) == Approx(0.001 + 0.5 * 0.009 * (1 + std::cos(M_PI * 0.9))));
  t.lr_schedule = "polynomial";
  t.lr_power = 0.9;
  REQUIRE(fedglioma::sim::round_lr(t, 1, 10) == Approx(0.01));
  REQUIRE(fedglioma::sim::round_lr(t, 5, 10) == Approx(0.01 * std::pow(0.6, 0.9)));
}

TEST_CASE("adamw sgd with nesterov gradient clipping and schedules each change training", "[sim][training]") {
  const auto base = read_rounds(tiny_run("train-base", {"federation.rounds=2"}));
  const std::vector<std::vector<std::string>> variants = {
      {"train.optimizer=adamw", "train.weight_decay=0.05"},
      {"train.optimizer=sgd", "train.nesterov=true", "train.lr=0.01"},
      {"train.grad_clip=0.01"},
      {"train.lr_schedule=cosine"},
      {"train.keep_optimizer_state=true"},
  };
  for (std::size_t v = 0; v < variants.size(); ++v) {
    auto overrides = variants[v];
    overrides.push_back("federation.rounds=2");
    const auto rounds = read_rounds(tiny_run("train-variant-" + std::to_string(v), overrides));
    REQUIRE(rounds.size() == 2);
    for (const auto& c : rounds.back()["clients"]) REQUIRE(c["status"] == "ok");
    REQUIRE(metrics_of(rounds.back()).dump() != metrics_of(base.back()).dump());
  }
}

namespace {

// A 16^3 case: a "brain" ball of random intensities and a small tumour at one corner of it.
fedglioma::data::Sample ball_case() {
  fedglioma::data::Sample s;
  s.geometry.size = {16, 16, 16};
  const std::size_t n = 16 * 16 * 16;
  s.image.assign(4 * n, 0.0f);
  s.mask.assign(n, 0);
  fedglioma::Rng rng(3);
  for (std::size_t v = 0; v < n; ++v) {
    const double k = static_cast<double>(v / 256), j = static_cast<double>((v / 16) % 16), i = static_cast<double>(v % 16);
    if ((i - 8) * (i - 8) + (j - 8) * (j - 8) + (k - 8) * (k - 8) > 49) continue;
    for (std::size_t c = 0; c < 4; ++c) s.image[c * n + v] = static_cast<float>(1.0 + rng.uniform());
    if (i < 6 && j < 6 && k < 6) s.mask[v] = 1;
  }
  s.labels.idh = 1;
  return s;
}

}  // namespace

TEST_CASE("training patches are cut from the volume and centred on tumour when oversampled", "[sim][training]") {
  const auto s = ball_case();
  fedglioma::sim::AugmentOptions options;
  options.flips_and_intensity = false;
  options.patch = {8, 8, 8};
  options.oversample_tumour = 1.0;
  for (std::uint64_t seed = 0; seed < 5; ++seed) {
    fedglioma::Rng rng(seed);
    const auto batch = fedglioma::sim::make_batch({&s}, c10::Device(c10::kCPU), &rng, options);
    REQUIRE(batch.image.sizes() == c10::IntArrayRef({1, 4, 8, 8, 8}));
    REQUIRE(batch.targets.mask.sizes() == c10::IntArrayRef({1, 1, 8, 8, 8}));
    REQUIRE(batch.targets.mask.sum().item<double>() > 0);  // the patch holds tumour
  }
  // Evaluation (no generator) sees the whole volume.
  REQUIRE(fedglioma::sim::make_batch({&s}, c10::Device(c10::kCPU)).image.size(2) == 16);
}

TEST_CASE("gamma and noise augmentation change the brain only and follow the client's generator",
          "[sim][training]") {
  const auto s = ball_case();
  fedglioma::sim::AugmentOptions options;
  options.flips_and_intensity = false;
  options.gamma = 1.0;
  options.noise = 1.0;
  fedglioma::Rng a(9), b(9), c(10);
  const auto plain = fedglioma::sim::make_batch({&s}, c10::Device(c10::kCPU)).image;
  const auto x = fedglioma::sim::make_batch({&s}, c10::Device(c10::kCPU), &a, options).image;
  const auto y = fedglioma::sim::make_batch({&s}, c10::Device(c10::kCPU), &b, options).image;
  const auto z = fedglioma::sim::make_batch({&s}, c10::Device(c10::kCPU), &c, options).image;
  REQUIRE(torch::equal(x, y));
  REQUIRE_FALSE(torch::equal(x, z));
  REQUIRE_FALSE(torch::allclose(x, plain));
  const auto background = plain == 0;
  REQUIRE(x.masked_select(background).abs().max().item<double>() == 0.0);
}

TEST_CASE("positive-class weights balance each marker by the client's own labels", "[sim][training]") {
  std::vector<fedglioma::data::Sample> cases(5);
  for (std::size_t i = 0; i < cases.size(); ++i) cases[i].labels.idh = i == 0 ? 1 : 0;  // 1 positive, 4 negatives
  cases[0].labels.mgmt = 1;                                                             // one class only
  std::vector<const fedglioma::data::Sample*> ptrs;
  for (const auto& c : cases) ptrs.push_back(&c);
  TrainConfig t;
  REQUIRE(fedglioma::sim::client_loss_weights(t, ptrs).positive[0] == 1.0);  // off by default
  t.positive_class_weights = true;
  const auto w = fedglioma::sim::client_loss_weights(t, ptrs);
  REQUIRE(w.positive[0] == 4.0);
  REQUIRE(w.positive[2] == 1.0);
  REQUIRE(w.positive[1] == 1.0);  // no labels
}

TEST_CASE("patch sizes that do not fit the grid or the depth are refused naming train.patch_size",
          "[sim][training][config]") {
  REQUIRE_THROWS_WITH(tiny_run("patch-big", {"train.patch_size=32"}), Catch::Contains("train.patch_size"));
  REQUIRE_THROWS_WITH(tiny_run("patch-odd", {"train.patch_size=[8, 8, 7]"}), Catch::Contains("train.patch_size"));
  const auto rounds = read_rounds(tiny_run("patch-ok", {"train.patch_size=8", "federation.rounds=1",
                                                        "train.augment_gamma=0.5", "train.augment_noise=0.5",
                                                        "train.positive_class_weights=true"}));
  for (const auto& c : rounds[0]["clients"]) REQUIRE(c["status"] == "ok");
}
