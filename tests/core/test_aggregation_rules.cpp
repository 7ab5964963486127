#include <catch2/catch.hpp>

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <vector>

#include "core/aggregate.h"
#include "core/aggregation_rules.h"
#include "core/random.h"

namespace {
#include "tests/core/aggregation_reference.inc"

using fedglioma::FedOptKind;
using fedglioma::FedOptParams;
using fedglioma::FlatParams;
using fedglioma::ServerOptimizerState;

std::vector<const FlatParams*> pointers(const std::vector<FlatParams>& buffers) {
  std::vector<const FlatParams*> out;
  for (const FlatParams& b : buffers) out.push_back(&b);
  return out;
}

/// Float32 results against float64 references: relative 1e-5, with an absolute floor for values near 0.
void require_close(const std::vector<float>& actual, const std::vector<double>& expected) {
  REQUIRE(actual.size() == expected.size());
  for (std::size_t i = 0; i < actual.size(); ++i) {
    INFO("coordinate " << i);
    REQUIRE(actual[i] == Approx(expected[i]).epsilon(1e-5).margin(1e-6));
  }
}

std::vector<FlatParams> random_clients(std::size_t count, std::size_t length, std::uint64_t seed) {
  fedglioma::Rng rng(seed);
  std::vector<FlatParams> clients(count, FlatParams(length));
  for (auto& c : clients)
    for (float& v : c) v = static_cast<float>(rng.normal());
  return clients;
}

}  // namespace

TEST_CASE("coordinate_median equals np.median over the clients", "[core][aggregation]") {
  // Prepare
  const std::vector<FlatParams> first4(kClients.begin(), kClients.begin() + 4);

  // Execute
  const FlatParams odd = fedglioma::coordinate_median(pointers(kClients));
  const FlatParams even = fedglioma::coordinate_median(pointers(first4));

  // Assert
  require_close(odd, kMedian);
  require_close(even, kMedianFirst4);
}

TEST_CASE("trimmed_mean equals Flower's aggregate_trimmed_avg", "[core][aggregation]") {
  for (const auto& ref : kTrimmedMean) {
    INFO("beta " << ref.beta);
    require_close(fedglioma::trimmed_mean(pointers(kClients), ref.beta), ref.expected);
  }
}

TEST_CASE("trimmed_mean with beta 0 is the unweighted mean", "[core][aggregation]") {
  const auto clients = random_clients(6, 101, 7);
  const FlatParams mean = fedglioma::weighted_mean(pointers(clients), std::vector<double>(6, 1.0));
  const FlatParams trimmed = fedglioma::trimmed_mean(pointers(clients), 0.0);
  REQUIRE(trimmed.size() == mean.size());
  for (std::size_t i = 0; i < mean.size(); ++i) REQUIRE(trimmed[i] == Approx(mean[i]).margin(1e-6));
}

TEST_CASE("krum_select and krum follow Flower's aggregate_krum", "[core][aggregation][krum]") {
  for (const auto& ref : kKrum) {
    INFO("num_malicious " << ref.num_malicious << " to_keep " << ref.to_keep);
    REQUIRE(fedglioma::krum_select(pointers(kClients), ref.num_malicious, ref.to_keep) == ref.selected);
    require_close(fedglioma::krum(pointers(kClients), kSamples, ref.num_malicious, ref.to_keep), ref.expected);
  }
}

TEST_CASE("krum breaks equal scores by the lower client index", "[core][aggregation][krum]") {
  // Prepare: clients 0 and 1 are identical, so their scores are exactly equal.
  const FlatParams a = {1.0f, 2.0f}, b = {4.0f, -1.0f};

  // Execute / Assert
  REQUIRE(fedglioma::krum_select({&b, &a, &a}, 0, 0) == std::vector<std::size_t>{1});
  REQUIRE(fedglioma::krum_select({&b, &a, &a}, 0, 2) == std::vector<std::size_t>{1, 2});
  REQUIRE(fedglioma::krum({&b, &a, &a}, {1, 1, 1}, 0, 0) == a);
}

TEST_CASE("krum keeping every client without malicious ones is the weighted mean", "[core][aggregation][krum]") {
  const auto clients = random_clients(5, 64, 11);
  const std::vector<double> samples = {4, 9, 1, 6, 2};
  REQUIRE(fedglioma::krum(pointers(clients), samples, 0, 5) == fedglioma::weighted_mean(pointers(clients), samples));
}

TEST_CASE("fedavgm_step matches Flower's FedAvgM over two rounds", "[core][aggregation][fedavgm]") {
  for (const auto& ref : kFedAvgM) {
    INFO("server_lr " << ref.server_lr << " momentum " << ref.momentum);
    // Prepare
    FlatParams global = kGlobal0;
    ServerOptimizerState state;

    // Execute / Assert: the state carries over from round 1 to round 2.
    fedglioma::fedavgm_step(global, kAggregated1, state, ref.server_lr, ref.momentum);
    require_close(global, ref.global1);
    fedglioma::fedavgm_step(global, kAggregated2, state, ref.server_lr, ref.momentum);
    require_close(global, ref.global2);
    require_close(state.m, ref.momentum2);
    REQUIRE(state.v.empty());
    REQUIRE(state.step == 2);
  }
}

TEST_CASE("fedavgm_step with momentum 0 and server lr 1 is the weighted mean", "[core][aggregation][fedavgm]") {
  FlatParams global = kGlobal0;
  ServerOptimizerState state;
  const FlatParams aggregated = fedglioma::weighted_mean(pointers(kClients), kSamples);
  fedglioma::fedavgm_step(global, aggregated, state, 1.0, 0.0);
  REQUIRE(global == aggregated);
}

TEST_CASE("fedopt_step matches Flower's adaptive strategies over two rounds", "[core][aggregation][fedopt]") {
  for (const auto& ref : kFedOpt) {
    INFO("kind " << static_cast<int>(ref.kind) << " eta " << ref.params.eta << " beta1 " << ref.params.beta1);
    // Prepare
    FlatParams global = kGlobal0;
    ServerOptimizerState state;

    // Execute / Assert
    fedglioma::fedopt_step(global, kAggregated1, state, ref.kind, ref.params);
    require_close(global, ref.global1);
    REQUIRE(state.step == 1);
    fedglioma::fedopt_step(global, kAggregated2, state, ref.kind, ref.params);
    require_close(global, ref.global2);
    require_close(state.m, ref.m2);
    require_close(state.v, ref.v2);
    REQUIRE(state.step == 2);
  }
}

TEST_CASE("fedopt_flower_defaults are the defaults of Flower's strategies", "[core][aggregation][fedopt]") {
  const FedOptParams adagrad = fedglioma::fedopt_flower_defaults(FedOptKind::kAdagrad);
  const FedOptParams adam = fedglioma::fedopt_flower_defaults(FedOptKind::kAdam);
  const FedOptParams yogi = fedglioma::fedopt_flower_defaults(FedOptKind::kYogi);
  REQUIRE((adagrad.eta == 0.1 && adagrad.beta1 == 0.0 && adagrad.tau == 1e-3));
  REQUIRE((adam.eta == 0.1 && adam.beta1 == 0.9 && adam.beta2 == 0.99 && adam.tau == 1e-3));
  REQUIRE((yogi.eta == 0.01 && yogi.beta1 == 0.9 && yogi.beta2 == 0.99 && yogi.tau == 1e-3));
}

// The three FedOpt kinds on a 2-coordinate model, every moment written out for two rounds:
// x0 = (1, -2), round-1 aggregate (1.5, -2.25), round-2 aggregate (1.04, -1.9).

TEST_CASE("FedAdagrad moments written out by hand for two rounds", "[core][aggregation][fedopt]") {
  // Prepare: Flower's FedAdagrad (beta1 = 0, so m is the latest delta).
  const FedOptParams p{0.1, 0.0, 0.0, 1e-9};
  FlatParams x = {1.0f, -2.0f};
  ServerOptimizerState state;

  // Round 1: delta = (0.5, -0.25), v = delta^2, x += 0.1 * delta / |delta|.
  fedglioma::fedopt_step(x, {1.5f, -2.25f}, state, FedOptKind::kAdagrad, p);
  require_close(state.m, {0.5, -0.25});
  require_close(state.v, {0.25, 0.0625});
  require_close(x, {1.1, -2.1});

  // Round 2: delta = (1.04 - 1.1, -1.9 + 2.1) = (-0.06, 0.2), v accumulates.
  fedglioma::fedopt_step(x, {1.04f, -1.9f}, state, FedOptKind::kAdagrad, p);
  require_close(state.m, {-0.06, 0.2});
  require_close(state.v, {0.25 + 0.0036, 0.0625 + 0.04});
  require_close(x, {1.1 + 0.1 * -0.06 / std::sqrt(0.2536), -2.1 + 0.1 * 0.2 / std::sqrt(0.1025)});
}

TEST_CASE("FedAdam moments written out by hand for two rounds", "[core][aggregation][fedopt]") {
  // Prepare: Flower's FedAdam defaults; the step size is bias-corrected with t = server_round + 1.
  const FedOptParams p{0.1, 0.9, 0.99, 1e-9};
  FlatParams x = {1.0f, -2.0f};
  ServerOptimizerState state;
  const double eta1 = 0.1 * std::sqrt(1.0 - 0.99 * 0.99) / (1.0 - 0.9 * 0.9);
  const double eta2 = 0.1 * std::sqrt(1.0 - 0.99 * 0.99 * 0.99) / (1.0 - 0.9 * 0.9 * 0.9);

  // Round 1: delta = (0.5, -0.25); m = 0.1 delta; v = 0.01 delta^2, so m / sqrt(v) = sign(delta).
  fedglioma::fedopt_step(x, {1.5f, -2.25f}, state, FedOptKind::kAdam, p);
  require_close(state.m, {0.05, -0.025});
  require_close(state.v, {0.0025, 0.000625});
  const double x1a = 1.0 + eta1, x1b = -2.0 - eta1;
  require_close(x, {x1a, x1b});

  // Round 2.
  fedglioma::fedopt_step(x, {1.04f, -1.9f}, state, FedOptKind::kAdam, p);
  const double da = 1.04 - x1a, db = -1.9 - x1b;
  const double ma = 0.9 * 0.05 + 0.1 * da, mb = 0.9 * -0.025 + 0.1 * db;
  const double va = 0.99 * 0.0025 + 0.01 * da * da, vb = 0.99 * 0.000625 + 0.01 * db * db;
  require_close(state.m, {ma, mb});
  require_close(state.v, {va, vb});
  require_close(x, {x1a + eta2 * ma / (std::sqrt(va) + 1e-9), x1b + eta2 * mb / (std::sqrt(vb) + 1e-9)});
}

TEST_CASE("FedYogi moments written out by hand for two rounds", "[core][aggregation][fedopt]") {
  // Prepare: Flower's FedYogi defaults; v starts at zero, as in Flower.
  const FedOptParams p{0.01, 0.9, 0.99, 1e-3};
  FlatParams x = {1.0f, -2.0f};
  ServerOptimizerState state;

  // Round 1: sign(0 - delta^2) = -1, so v = 0.01 delta^2 as for Adam; no bias correction.
  fedglioma::fedopt_step(x, {1.5f, -2.25f}, state, FedOptKind::kYogi, p);
  require_close(state.m, {0.05, -0.025});
  require_close(state.v, {0.0025, 0.000625});
  const double x1a = 1.0 + 0.01 * 0.05 / (0.05 + 1e-3), x1b = -2.0 + 0.01 * -0.025 / (0.025 + 1e-3);
  require_close(x, {x1a, x1b});

  // Round 2: coordinate 0 has v > delta^2 (v shrinks), coordinate 1 has v < delta^2 (v grows).
  fedglioma::fedopt_step(x, {1.04f, -1.9f}, state, FedOptKind::kYogi, p);
  const double da = 1.04 - x1a, db = -1.9 - x1b;
  REQUIRE(0.0025 > da * da);
  REQUIRE(0.000625 < db * db);
  const double ma = 0.9 * 0.05 + 0.1 * da, mb = 0.9 * -0.025 + 0.1 * db;
  const double va = 0.0025 - 0.01 * da * da, vb = 0.000625 + 0.01 * db * db;
  require_close(state.m, {ma, mb});
  require_close(state.v, {va, vb});
  require_close(x, {x1a + 0.01 * ma / (std::sqrt(va) + 1e-3), x1b + 0.01 * mb / (std::sqrt(vb) + 1e-3)});
}

TEST_CASE("FedYogi takes sign(0) as 0 like np.sign", "[core][aggregation][fedopt]") {
  // Prepare: a restored state whose v equals this round's delta^2 (0.25) in coordinate 0, and a
  // zero delta in coordinate 1.
  FlatParams x = {1.0f, 0.25f};
  ServerOptimizerState state{{0.0f, 0.0f}, {0.25f, 0.0f}, 1};

  // Execute
  fedglioma::fedopt_step(x, {1.5f, 0.25f}, state, FedOptKind::kYogi, {0.01, 0.9, 0.99, 1e-3});

  // Assert: v unchanged where v == delta^2; nothing moves where delta == 0.
  REQUIRE(state.v == std::vector<float>{0.25f, 0.0f});
  REQUIRE(x[0] == Approx(1.0 + 0.01 * 0.05 / (0.5 + 1e-3)));
  REQUIRE(x[1] == 0.25f);
  REQUIRE(state.step == 2);
}

TEST_CASE("fednova matches the FedNova update with vanilla SGD", "[core][aggregation][fednova]") {
  require_close(fedglioma::fednova(kGlobal0, pointers(kClients), kSamples, kLocalSteps), kFedNova);
}

TEST_CASE("fednova with equal local steps is the weighted mean", "[core][aggregation][fednova]") {
  const auto clients = random_clients(4, 64, 5);
  const FlatParams global = random_clients(1, 64, 6).front();
  const std::vector<double> samples = {10, 2, 7, 1};
  const FlatParams nova = fedglioma::fednova(global, pointers(clients), samples, std::vector<double>(4, 12.0));
  const FlatParams mean = fedglioma::weighted_mean(pointers(clients), samples);
  for (std::size_t i = 0; i < mean.size(); ++i) REQUIRE(nova[i] == Approx(mean[i]).margin(1e-6));
}

TEST_CASE("scaffold_server_step follows SCAFFOLD's server update", "[core][aggregation][scaffold]") {
  // Prepare
  FlatParams global = kGlobal0, control(kServerControl.begin(), kServerControl.end());
  FlatParams global_b = kGlobal0, control_b;  // no server control yet: zeros

  // Execute
  fedglioma::scaffold_server_step(global, control, pointers(kClients), pointers(kControlDeltas), kScaffoldTotalClients,
                                  kScaffoldServerLr);
  fedglioma::scaffold_server_step(global_b, control_b, pointers(kClients), pointers(kControlDeltas),
                                  kScaffoldTotalClients, kScaffoldServerLr);

  // Assert
  require_close(global, kScaffoldGlobal);
  require_close(control, kScaffoldControl);
  require_close(global_b, kScaffoldGlobal);
  require_close(control_b, kScaffoldControlFromZero);
}

TEST_CASE("scaffold_client_control follows option II", "[core][aggregation][scaffold]") {
  require_close(fedglioma::scaffold_client_control(kClientControl, kServerControl, kGlobal0, kClients[1],
                                                   kScaffoldLocalSteps, kScaffoldLr),
                kScaffoldClientControl);
  require_close(fedglioma::scaffold_client_control({}, {}, kGlobal0, kClients[1], kScaffoldLocalSteps, kScaffoldLr),
                kScaffoldClientControlFromZero);
}

TEST_CASE("aggregation rules reject bad input", "[core][aggregation]") {
  const FlatParams a = {1, 2}, b = {1, 2, 3};
  const std::vector<const FlatParams*> none, mismatched = {&a, &b}, two = {&a, &a};
  using std::invalid_argument;

  SECTION("robust aggregates") {
    REQUIRE_THROWS_AS(fedglioma::coordinate_median(none), invalid_argument);
    REQUIRE_THROWS_AS(fedglioma::coordinate_median(mismatched), invalid_argument);
    REQUIRE_THROWS_AS(fedglioma::trimmed_mean(none, 0.1), invalid_argument);
    REQUIRE_THROWS_AS(fedglioma::trimmed_mean(mismatched, 0.1), invalid_argument);
    REQUIRE_THROWS_AS(fedglioma::trimmed_mean(two, 0.5), invalid_argument);
    REQUIRE_THROWS_AS(fedglioma::trimmed_mean(two, -0.1), invalid_argument);
    REQUIRE_THROWS_AS(fedglioma::krum_select(none, 0, 0), invalid_argument);
    REQUIRE_THROWS_AS(fedglioma::krum_select(mismatched, 0, 0), invalid_argument);
    REQUIRE_THROWS_AS(fedglioma::krum_select(two, -1, 0), invalid_argument);
    REQUIRE_THROWS_AS(fedglioma::krum_select(two, 0, 3), invalid_argument);
    REQUIRE_THROWS_AS(fedglioma::krum_select(two, 0, -1), invalid_argument);
    REQUIRE_THROWS_AS(fedglioma::krum(two, {1}, 0, 0), invalid_argument);
  }
  SECTION("server optimizers") {
    FlatParams global = a;
    ServerOptimizerState state;
    REQUIRE_THROWS_AS(fedglioma::fedavgm_step(global, b, state, 1.0, 0.9), invalid_argument);
    REQUIRE_THROWS_AS(fedglioma::fedavgm_step(global, a, state, 0.0, 0.9), invalid_argument);
    REQUIRE_THROWS_AS(fedglioma::fedavgm_step(global, a, state, 1.0, -0.1), invalid_argument);
    REQUIRE_THROWS_AS(fedglioma::fedopt_step(global, b, state, FedOptKind::kAdam, {}), invalid_argument);
    REQUIRE_THROWS_AS(fedglioma::fedopt_step(global, a, state, FedOptKind::kAdam, {0.1, 1.0, 0.99, 1e-3}),
                      invalid_argument);
    REQUIRE_THROWS_AS(fedglioma::fedopt_step(global, a, state, FedOptKind::kYogi, {0.1, 0.9, 1.0, 1e-3}),
                      invalid_argument);
    REQUIRE_THROWS_AS(fedglioma::fedopt_step(global, a, state, FedOptKind::kAdagrad, {0.1, 0.0, 0.0, 0.0}),
                      invalid_argument);
    REQUIRE_THROWS_AS(fedglioma::fedopt_step(global, a, state, FedOptKind::kAdagrad, {-0.1, 0.0, 0.0, 1e-9}),
                      invalid_argument);
    FlatParams empty;
    REQUIRE_THROWS_AS(fedglioma::fedopt_step(empty, empty, state, FedOptKind::kAdam, {}), invalid_argument);
    // State saved for a model of another size.
    state.m = {0.0f, 0.0f, 0.0f};
    REQUIRE_THROWS_AS(fedglioma::fedopt_step(global, a, state, FedOptKind::kAdam, {}), invalid_argument);
    REQUIRE_THROWS_AS(fedglioma::fedavgm_step(global, a, state, 1.0, 0.9), invalid_argument);
    REQUIRE(global == a);
    REQUIRE(state.step == 0);
  }
  SECTION("FedNova and SCAFFOLD") {
    REQUIRE_THROWS_AS(fedglioma::fednova(a, none, {}, {}), invalid_argument);
    REQUIRE_THROWS_AS(fedglioma::fednova(b, two, {1, 1}, {1, 1}), invalid_argument);
    REQUIRE_THROWS_AS(fedglioma::fednova(a, two, {1}, {1, 1}), invalid_argument);
    REQUIRE_THROWS_AS(fedglioma::fednova(a, two, {1, 1}, {1, 0}), invalid_argument);
    REQUIRE_THROWS_AS(fedglioma::fednova(a, two, {0, 0}, {1, 1}), invalid_argument);
    FlatParams global = a, control;
    REQUIRE_THROWS_AS(fedglioma::scaffold_server_step(global, control, none, none, 4, 1.0), invalid_argument);
    REQUIRE_THROWS_AS(fedglioma::scaffold_server_step(global, control, two, {&a}, 4, 1.0), invalid_argument);
    REQUIRE_THROWS_AS(fedglioma::scaffold_server_step(global, control, two, {&a, &b}, 4, 1.0), invalid_argument);
    REQUIRE_THROWS_AS(fedglioma::scaffold_server_step(global, control, two, two, 1, 1.0), invalid_argument);
    REQUIRE_THROWS_AS(fedglioma::scaffold_server_step(global, control, two, two, 4, 0.0), invalid_argument);
    REQUIRE_THROWS_AS(fedglioma::scaffold_client_control({}, {}, a, b, 10, 0.1), invalid_argument);
    REQUIRE_THROWS_AS(fedglioma::scaffold_client_control(b, {}, a, a, 10, 0.1), invalid_argument);
    REQUIRE_THROWS_AS(fedglioma::scaffold_client_control({}, {}, a, a, 0, 0.1), invalid_argument);
    REQUIRE_THROWS_AS(fedglioma::scaffold_client_control({}, {}, a, a, 10, 0.0), invalid_argument);
  }
}
