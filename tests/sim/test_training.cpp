// Local training options: optimizers, learning-rate schedules over rounds, gradient clipping.
#include <catch2/catch.hpp>

#include <cmath>

#include "sim/client_training.h"
#include "tests/support/fixtures.h"

using fedglioma::testing::metrics_of;
using fedglioma::testing::read_rounds;
using fedglioma::testing::tiny_run;
using fedglioma::sim::TrainConfig;

TEST_CASE("learning-rate schedules follow their formulas over the rounds", "[sim][training]") {
  TrainConfig t;
  t.lr = 0.01;
  t.rounds = 10;
  REQUIRE(fedglioma::sim::round_lr(t, 7) == 0.01);  // constant
  t.lr_schedule = "cosine";
  t.lr_min = 0.001;
  REQUIRE(fedglioma::sim::round_lr(t, 1) == Approx(0.01));
  REQUIRE(fedglioma::sim::round_lr(t, 6) == Approx(0.001 + 0.5 * 0.009 * (1 + std::cos(M_PI * 0.5))));
  REQUIRE(fedglioma::sim::round_lr(t, 10) == Approx(0.001 + 0.5 * 0.009 * (1 + std::cos(M_PI * 0.9))));
  t.lr_schedule = "polynomial";
  t.lr_power = 0.9;
  REQUIRE(fedglioma::sim::round_lr(t, 1) == Approx(0.01));
  REQUIRE(fedglioma::sim::round_lr(t, 5) == Approx(0.01 * std::pow(0.6, 0.9)));
}

TEST_CASE("adamw sgd with nesterov gradient clipping and schedules each change training", "[sim][training]") {
  const auto base = read_rounds(tiny_run("train-base", {"federation.rounds=2"}));
  const std::vector<std::vector<std::string>> variants = {
      {"train.optimizer=adamw", "train.weight_decay=0.05"},
      {"train.optimizer=sgd", "train.nesterov=true", "train.lr=0.01"},
      {"train.grad_clip=0.01"},
      {"train.lr_schedule=cosine"},
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
