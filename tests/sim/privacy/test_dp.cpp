// Client-level differential privacy (sim/privacy/dp_mechanism.h): clipping checked on the
// updates, the noised mean, adaptive clipping's convergence and sign, Poisson sampling, the
// per-site ledger, and end to end: no noise and no clipping is the plain strategy, the same noise
// with 1 and 3 workers, target_epsilon, SIGKILL + resume, bad settings refused.
#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include <cmath>
#include <cstdio>
#include <sstream>

#include "core/atomic_file.h"
#include "core/error.h"
#include "core/rdp_accountant.h"
#include "experiments/cli_run.h"
#include "experiments/config_json.h"
#include "sim/privacy/dp_mechanism.h"
#include "sim/strategy/strategy_registry.h"
#include "tests/support/fixtures.h"

using fedglioma::FlatParams;
using fedglioma::testing::metrics_of;
using fedglioma::testing::read_rounds;
using fedglioma::testing::tiny_run;
using namespace fedglioma::sim;
using nlohmann::json;

namespace {

// `clients` equally weighted clients, every one in every round, no noise unless asked.
DpSettings settings_of(std::size_t clients, double clip, double z = 0.0) {
  DpSettings s;
  for (std::size_t i = 0; i < clients; ++i) s.client_ids.push_back("site-" + std::to_string(i));
  s.weights.assign(clients, 1.0);
  s.total_weight = static_cast<double>(clients);
  s.config.enabled = true;
  s.config.clip_norm = clip;
  s.config.noise_multiplier = z;
  s.delta = 1e-3;
  s.seed = 9;
  return s;
}

std::unique_ptr<Strategy> fedavg(std::size_t clients) {
  StrategyContext context;
  context.num_clients = clients;
  return make_strategy(StrategyConfig::defaults("fedavg"), context);
}

ClientUpdate update_of(FlatParams params) {
  ClientUpdate u;
  u.params = std::move(params);
  u.weight = 1.0;
  return u;
}

// One round of `dp` over FedAvg from `global` with `updates` (one per client, in order).
FlatParams dp_round(DpMechanism& dp, const FlatParams& global, const std::vector<FlatParams>& updates, int round = 1) {
  auto strategy = fedavg(updates.size());
  auto aggregator = dp.aggregator(strategy->aggregator(global), global, round);
  for (std::size_t i = 0; i < updates.size(); ++i) aggregator->add(i, update_of(updates[i]));
  FlatParams next = *aggregator->finish();
  dp.finish_round(round);
  return next;
}

double norm(const std::vector<double>& v) {
  double s = 0;
  for (double x : v) s += x * x;
  return std::sqrt(s);
}

std::vector<std::string> dp_set(std::vector<std::string> more) {
  std::vector<std::string> set = {"federation.rounds=3", "federation.dp.enabled=true"};
  set.insert(set.end(), more.begin(), more.end());
  return set;
}

}  // namespace

TEST_CASE("clipping bounds each difference's L2 norm and leaves a smaller one as it is", "[sim][dp]") {
  std::vector<double> big = {3.0, 4.0}, small = {0.3, 0.4};
  REQUIRE(clip_to_norm(big, 1.0) == 5.0);
  REQUIRE(norm(big) == Approx(1.0));
  REQUIRE(big[0] == Approx(0.6));
  REQUIRE(clip_to_norm(small, 1.0) == Approx(0.5));
  REQUIRE(small == std::vector<double>{0.3, 0.4});
}

TEST_CASE("the noiseless mechanism's aggregate is the mean of the clipped differences, each of norm <= C",
          "[sim][dp]") {
  // Differences of norm 0.5, 2 and 10 from a global model at (1, 1); C = 1.
  DpMechanism dp(settings_of(3, 1.0));
  const FlatParams global = {1.0f, 1.0f};
  const FlatParams next = dp_round(dp, global, {{1.3f, 1.4f}, {1.0f, 3.0f}, {7.0f, 9.0f}});
  // Checked on the updates: the clipped differences are (0.3, 0.4), (0, 1), (0.6, 0.8).
  const std::vector<std::vector<double>> clipped = {{0.3, 0.4}, {0.0, 1.0}, {0.6, 0.8}};
  for (const auto& d : clipped) REQUIRE(norm(d) <= 1.0 + 1e-12);
  REQUIRE(next[0] == Approx(1.0 + (0.3 + 0.0 + 0.6) / 3).epsilon(1e-6));
  REQUIRE(next[1] == Approx(1.0 + (0.4 + 1.0 + 0.8) / 3).epsilon(1e-6));
}

TEST_CASE("central noise is the same draw for the same round and another for the next", "[sim][dp]") {
  const FlatParams global(64, 0.0f);
  const std::vector<FlatParams> updates(2, FlatParams(64, 0.01f));
  DpMechanism a(settings_of(2, 1.0, 1.0)), b(settings_of(2, 1.0, 1.0));
  const FlatParams a1 = dp_round(a, global, updates, 1), b1 = dp_round(b, global, updates, 1);
  const FlatParams a2 = dp_round(a, global, updates, 2);
  REQUIRE(a1 == b1);
  REQUIRE(a1 != a2);
  // Its spread: the noise's sd over the mean is z C / (q W) = 0.5.
  double squares = 0;
  for (float v : a1) squares += (v - 0.01) * (v - 0.01);
  REQUIRE(std::sqrt(squares / 64) == Approx(0.5).epsilon(0.3));
}

TEST_CASE("adaptive clipping moves C toward the target quantile of the norms, in the right direction", "[sim][dp]") {
  // Ten clients whose differences have norms 1 to 10; no noise anywhere.
  DpSettings s = settings_of(10, 0.1);
  s.config.adaptive_clipping = true;
  s.count_noise = 0.0;
  DpMechanism dp(s);
  const FlatParams global = {0.0f};
  std::vector<FlatParams> updates;
  for (int k = 1; k <= 10; ++k) updates.push_back({static_cast<float>(k)});
  // All ten are clipped at C = 0.1: b = 0 < gamma = 0.5, so C grows, by e^(0.2 x 0.5).
  dp_round(dp, global, updates);
  REQUIRE(dp.clip_norm() == Approx(0.1 * std::exp(0.1)));
  for (int round = 2; round <= 300; ++round) dp_round(dp, global, updates, round);
  REQUIRE(dp.clip_norm() >= 5.0 - 1e-9);  // half the norms (1 to 5) at most C, half above
  REQUIRE(dp.clip_norm() <= 6.0 * std::exp(0.1));
  // Above every norm, b = 1 > gamma: C shrinks.
  DpSettings high = s;
  high.config.clip_norm = 100.0;
  DpMechanism shrinking(high);
  dp_round(shrinking, global, updates);
  REQUIRE(shrinking.clip_norm() == Approx(100.0 * std::exp(-0.1)));
}

TEST_CASE("Poisson sampling draws each client with probability q, the same draw every time", "[sim][dp]") {
  DpSettings s = settings_of(40, 1.0, 1.0);
  s.rate = 0.25;
  const DpMechanism dp(s);
  std::size_t taken = 0;
  for (int round = 1; round <= 100; ++round) taken += dp.participants(round).size();
  REQUIRE(taken == Approx(1000.0).epsilon(0.1));
  REQUIRE(dp.participants(7) == DpMechanism(s).participants(7));
  REQUIRE(dp.participants(7) != dp.participants(8));
}

TEST_CASE("the per-site ledger: central DP charges every site each round, local DP only the contributors",
          "[sim][dp]") {
  const FlatParams global = {0.0f, 0.0f};
  DpSettings central = settings_of(3, 1.0, 1.0);
  central.rate = 0.5;
  DpMechanism dp(central);
  auto strategy = fedavg(3);
  for (int round = 1; round <= 4; ++round) {
    auto aggregator = dp.aggregator(strategy->aggregator(global), global, round);
    aggregator->add(0, update_of({0.1f, 0.1f}));  // only site-0 ever sends
    aggregator->finish();
    dp.finish_round(round);
  }
  fedglioma::RdpAccountant expected;
  expected.add(0.5, 1.0, 4);
  for (std::size_t i = 0; i < 3; ++i) REQUIRE(dp.ledger().site(i).epsilon == Approx(expected.spent(1e-3).epsilon));

  DpSettings local = central;
  local.config.mode = "local";
  DpMechanism ldp(local);
  for (int round = 1; round <= 4; ++round) {
    auto aggregator = ldp.aggregator(strategy->aggregator(global), global, round);
    aggregator->add(0, update_of({0.1f, 0.1f}));
    if (round % 2 == 0) aggregator->add(1, update_of({0.1f, 0.1f}));
    aggregator->finish();
    ldp.finish_round(round);
  }
  fedglioma::RdpAccountant four, two;  // no amplification: a client's own release is seen
  four.add(1.0, 1.0, 4);
  two.add(1.0, 1.0, 2);
  REQUIRE(ldp.ledger().site(0).epsilon == Approx(four.spent(1e-3).epsilon));
  REQUIRE(ldp.ledger().site(1).epsilon == Approx(two.spent(1e-3).epsilon));
  REQUIRE(ldp.ledger().site(2).epsilon == 0.0);
  REQUIRE(ldp.ledger().run().epsilon == ldp.ledger().site(0).epsilon);
}

TEST_CASE("DP without noise and without clipping is the plain strategy", "[sim][dp][slow]") {
  for (const std::string strategy : {"fedavg", "fedadam"}) {
    INFO(strategy);
    const auto plain = read_rounds(tiny_run("dp-off-" + strategy, {"federation.rounds=3",
                                                                    "federation.strategy.name=" + strategy}));
    const auto dp = read_rounds(tiny_run(
        "dp-transparent-" + strategy, dp_set({"federation.dp.noise_multiplier=0", "federation.dp.clip_norm=1e30",
                                              "federation.strategy.name=" + strategy})));
    REQUIRE(dp.size() == plain.size());
    for (std::size_t r = 0; r < plain.size(); ++r) {
      REQUIRE(dp[r]["eval"].dump() == plain[r]["eval"].dump());
      REQUIRE(dp[r]["privacy"]["noise_multiplier"] == 0.0);
    }
  }
}

TEST_CASE("DP runs give the same rounds.jsonl with 1 and 3 workers and log epsilon every round", "[sim][dp][slow]") {
  const auto set = dp_set({"partition.scheme=iid", "partition.num_clients=4", "federation.clients_per_round=0.5",
                           "federation.dp.noise_multiplier=1.1", "federation.dp.adaptive_clipping=true",
                           "federation.dp.count_noise=1"});
  auto one = set, three = set;
  one.push_back("runtime.workers=1");
  three.push_back("runtime.workers=3");
  const auto a = read_rounds(tiny_run("dp-workers-1", one)), b = read_rounds(tiny_run("dp-workers-3", three));
  REQUIRE(a.size() == 3);
  double before = 0;
  for (std::size_t r = 0; r < a.size(); ++r) {
    REQUIRE(metrics_of(a[r]).dump() == metrics_of(b[r]).dump());
    REQUIRE(a[r]["privacy"]["epsilon"].get<double>() > before);
    before = a[r]["privacy"]["epsilon"].get<double>();
    REQUIRE(a[r]["privacy"]["delta"] == 0.025);  // 1 / (10 x 4 clients)
    REQUIRE(a[r]["privacy"]["sites"].size() == 4);
  }
  fedglioma::RdpAccountant expected;
  expected.add(0.5, 1.1, 3);
  REQUIRE(before == Approx(expected.spent(0.025).epsilon).epsilon(1e-12));
}

TEST_CASE("target_epsilon stops the run before the round that would exceed it, the last one evaluated",
          "[sim][dp][slow]") {
  fedglioma::RdpAccountant two;
  two.add(1.0, 2.0, 2);
  const double target = two.spent(0.05).epsilon + 1e-6;  // two rounds fit, the third does not
  char text[64];
  std::snprintf(text, sizeof text, "federation.dp.target_epsilon=%.17g", target);
  const auto set = dp_set({"federation.rounds=5", "federation.dp.noise_multiplier=2", text});
  const auto run = tiny_run("dp-target", set);
  const auto rounds = read_rounds(run);
  REQUIRE(rounds.size() == 2);
  REQUIRE(rounds[1].contains("eval"));
  REQUIRE_THAT(rounds[1]["privacy"]["stopped"].get<std::string>(),
               Catch::StartsWith("round 3 would spend epsilon") && Catch::Contains("federation.dp.target_epsilon"));
  const json summary = json::parse(fedglioma::read_file(run / "summary.json"));
  REQUIRE(summary["final"]["round"] == 2);
  REQUIRE(summary["privacy"]["epsilon"].get<double>() <= target);
  REQUIRE_THROWS_WITH(tiny_run("dp-target-first", dp_set({"federation.dp.target_epsilon=0.01"})),
                      Catch::Contains("round 1 would spend epsilon"));
}

TEST_CASE("a DP run killed mid-run resumes to the uninterrupted run's rounds.jsonl", "[sim][dp][slow]") {
  const auto set = dp_set({"federation.rounds=4", "federation.dp.adaptive_clipping=true", "federation.dp.count_noise=1",
                           "federation.dp.noise_multiplier=0.5"});
  const auto reference = read_rounds(tiny_run("dp-reference", set));
  const auto killed = fedglioma::testing::run_and_kill(fedglioma::testing::temp_dir("dp-killed"), set, 2);
  fedglioma::experiments::RunOptions resume;
  resume.resume = killed.out;
  std::ostringstream console;
  fedglioma::experiments::run_run(resume, console);
  const auto resumed = read_rounds(killed.out);
  REQUIRE(resumed.size() == reference.size());
  for (std::size_t r = 0; r < reference.size(); ++r) REQUIRE(metrics_of(resumed[r]).dump() == metrics_of(reference[r]).dump());
}

TEST_CASE("DP settings are refused naming the key", "[sim][dp][config]") {
  const auto dir = fedglioma::testing::temp_dir("dp-config");
  fedglioma::write_file_atomic(dir / "tiny.json", fedglioma::testing::tiny_config_json());
  auto load = [&](std::vector<std::string> set) { return fedglioma::experiments::load_config(dir / "tiny.json", set); };
  REQUIRE_THROWS_WITH(load(dp_set({"federation.dp.noise_multiplier=-1"})),
                      Catch::Contains("federation.dp.noise_multiplier: -1 is out of range"));
  REQUIRE_THROWS_WITH(load(dp_set({"federation.dp.clip_norm=0"})), Catch::Contains("federation.dp.clip_norm: 0 is out of range"));
  REQUIRE_THROWS_WITH(load(dp_set({"federation.dp.delta=1"})), Catch::Contains("federation.dp.delta: 1 is out of range"));
  REQUIRE_THROWS_WITH(load(dp_set({"federation.dp.target_epsilon=-2"})),
                      Catch::Contains("federation.dp.target_epsilon: -2 is out of range"));
  REQUIRE_THROWS_WITH(load(dp_set({"federation.strategy.name=scaffold"})),
                      Catch::Contains("federation.dp does not compose with federation.strategy \"scaffold\""));
  REQUIRE_THROWS_WITH(load(dp_set({"federation.strategy.label_aware=true"})), Catch::Contains("with label_aware"));
  REQUIRE_THROWS_WITH(load(dp_set({"federation.clients_per_round=2"})),
                      Catch::Contains("Poisson sampling rate, a fraction in (0, 1]"));
  REQUIRE_THROWS_WITH(load({"federation.dp.noise_multiplier=2"}),
                      Catch::Contains("its options are set but federation.dp.enabled is false"));
  REQUIRE_THROWS_WITH(tiny_run("dp-count", dp_set({"federation.dp.adaptive_clipping=true"})),
                      Catch::Contains("federation.dp.count_noise: the count's noise sigma_b = 0.1"));
  REQUIRE(load(dp_set({})).config.federation.dp.enabled);
}
