// The asynchronous loop (sim/run/async_loop.h) with injected clients and a hand-set clock: the
// order of events, staleness and its weights for a schedule computed by hand, FedAsync as
// sequential training, updates dropped as stale, and a checkpoint in the middle of a run.
#include <catch2/catch.hpp>

#include <cmath>
#include <map>
#include <ostream>
#include <sstream>

#include "core/rdp_accountant.h"
#include "core/state_bundle.h"
#include "sim/privacy/dp_mechanism.h"
#include "sim/processes/processes.h"
#include "sim/record/progress.h"
#include "sim/run/async_loop.h"
#include "sim/run/staleness.h"
#include "sim/strategy/strategy.h"
#include "sim/strategy/strategy_registry.h"
#include "sim/workers/executor.h"
#include "tests/support/fixtures.h"

using fedglioma::FlatParams;
using namespace fedglioma::sim;

namespace {

// Three clients a, b, c whose participations take 1, 2.5 and 4 simulated seconds. Client k
// returns `halve` x start + (k + 1) in every weight, so its change depends on where it started.
struct Fixture {
  std::ostringstream console;
  RoundProgress progress{console, false, 1, 1};
  SingleProcess processes;
  Executor executor{2, 1, {"cpu"}, fedglioma::testing::tiny_model()};
  AsyncSettings settings;
  std::unique_ptr<Strategy> strategy;
  float halve = 1.0f;

  Fixture() {
    settings.client_ids = {"a", "b", "c"};
    settings.client_samples = {1, 1, 1};
    settings.seed = 5;
    settings.concurrency = 3;
    settings.buffer_size = 1;
    settings.clock = [](std::size_t client, int) {
      Participation p;
      p.compute = client == 0 ? 1.0 : client == 1 ? 2.5 : 4.0;
      return p;
    };
    StrategyContext context;
    context.num_clients = 3;
    strategy = make_strategy(StrategyConfig::defaults("fedavg"), context);
  }
  AsyncLoop loop() {
    return AsyncLoop(*strategy, executor,
                     [this](Worker&, const ClientTask& task, std::size_t client, int) {
                       ClientUpdate u;
                       for (float v : task.start) u.params.push_back(halve * v + static_cast<float>(client + 1));
                       u.weight = 1.0;
                       u.samples = 1;
                       u.train_loss = 0.5;
                       return u;
                     },
                     settings, progress, processes);
  }
};

RoundHooks recording(std::vector<RoundRecord>& out) {
  RoundHooks hooks;
  hooks.report = [&out](const RoundRecord& r) { out.push_back(r); };
  return hooks;
}

struct Applied {
  std::string client;
  std::int64_t staleness;
  double clock;
  bool operator==(const Applied& o) const { return client == o.client && staleness == o.staleness && clock == o.clock; }
};

std::ostream& operator<<(std::ostream& out, const Applied& a) {
  return out << a.client << " (tau " << a.staleness << ") at " << a.clock;
}

std::vector<Applied> applied(const std::vector<RoundRecord>& records) {
  std::vector<Applied> out;
  for (const RoundRecord& r : records)
    for (const ClientRecord& c : r.clients)
      if (c.status == "ok") out.push_back({c.id, *c.staleness, *r.clock_seconds});
  return out;
}

}  // namespace

TEST_CASE("arrivals are ordered by simulated time, then client id, then sequence number", "[sim][async]") {
  InFlight early{2, 9, 0, 1, 0.0, 1.0}, tie_low_client{0, 7, 0, 1, 0.0, 2.0}, tie_high_client{1, 3, 0, 1, 0.0, 2.0},
      tie_later_seq{0, 8, 0, 1, 0.0, 2.0};
  REQUIRE(arrives_before(early, tie_low_client));
  REQUIRE(arrives_before(tie_low_client, tie_high_client));  // the client's id decides, not the sequence
  REQUIRE(arrives_before(tie_low_client, tie_later_seq));
  REQUIRE_FALSE(arrives_before(tie_later_seq, tie_low_client));
  AsyncState s;
  s.in_flight = {tie_high_client, tie_later_seq, early, tie_low_client};
  REQUIRE(s.earliest().seq == 9);
  s.take(9);
  REQUIRE(s.earliest().seq == 7);
}

TEST_CASE("staleness weights: constant, polynomial and hinge", "[sim][async]") {
  StalenessConfig c;
  c.function = "constant";
  REQUIRE(staleness_weight(c, 7) == 1.0);
  c.function = "polynomial";
  REQUIRE(staleness_weight(c, 0) == 1.0);
  REQUIRE(staleness_weight(c, 3) == Approx(0.5));  // 1 / sqrt(1 + 3)
  c.exponent = 1.0;
  REQUIRE(staleness_weight(c, 4) == Approx(0.2));
  c.function = "hinge";  // a = 10, b = 4
  REQUIRE(staleness_weight(c, 4) == 1.0);
  REQUIRE(staleness_weight(c, 5) == Approx(1.0 / 11.0));
  REQUIRE(staleness_weight(c, 6) == Approx(1.0 / 21.0));
}

TEST_CASE("FedBuff with K = 1 follows the hand-computed schedule, staleness and weights", "[sim][async]") {
  // t = 1: a (from version 0) -> step 1, a again from 1; t = 2: a -> 2; t = 2.5: b (from 0, 2 steps
  // old) -> 3; t = 3: a (from 2) -> 4; t = 4: a (from 4) and c (from 0) tie: a first -> 5, c -> 6;
  // t = 5: a (from 5) and b (from 3) tie: a -> 7, b -> 8.
  Fixture f;
  f.settings.staleness.function = "polynomial";
  std::vector<RoundRecord> records;
  FlatParams global = {0.0f};
  REQUIRE(f.loop().run(1, 8, global, recording(records)) == 8);
  const std::vector<Applied> expected = {{"a", 0, 1.0}, {"a", 0, 2.0}, {"b", 2, 2.5}, {"a", 1, 3.0},
                                         {"a", 0, 4.0}, {"c", 5, 4.0}, {"a", 1, 5.0}, {"b", 4, 5.0}};
  REQUIRE(applied(records) == expected);
  REQUIRE(*records[2].clients[0].base_version == 0);
  REQUIRE(*records[2].clients[0].staleness_weight == Approx(1.0 / std::sqrt(3.0)));
  REQUIRE(*records[5].simulated_seconds == 0.0);  // c arrived at the same time as the step before
  // Each step moves the model by s(tau) (w_i - base_i) = s(tau) (k + 1).
  double expected_global = 0.0;
  for (const Applied& a : expected)
    expected_global += (a.client == "a" ? 1.0 : a.client == "b" ? 2.0 : 3.0) / std::sqrt(1.0 + static_cast<double>(a.staleness));
  REQUIRE(global[0] == Approx(expected_global).epsilon(1e-6));
}

TEST_CASE("an update older than max_staleness is logged as stale and dropped; its client starts again", "[sim][async]") {
  Fixture f;
  f.settings.max_staleness = 2;
  std::vector<RoundRecord> records;
  FlatParams global = {0.0f};
  f.loop().run(1, 6, global, recording(records));
  // Step 6: c arrives at t = 4, five steps old, and is dropped; a (from 5) is applied at t = 5.
  REQUIRE(records[5].clients.size() == 2);
  REQUIRE(records[5].clients[0].id == "c");
  REQUIRE_THAT(records[5].clients[0].status, Catch::StartsWith("stale: 5 server steps old, above federation.max_staleness = 2"));
  REQUIRE_FALSE(records[5].clients[0].train_loss);
  REQUIRE(records[5].clients[1].id == "a");
  REQUIRE(*records[5].clients[1].staleness == 0);
  REQUIRE(*records[5].clock_seconds == 5.0);
}

TEST_CASE("FedAsync with alpha 1 and one client in flight is sequential training", "[sim][async]") {
  Fixture f;
  f.halve = 0.5f;
  f.settings.fedasync = true;
  f.settings.mixing = 1.0;
  f.settings.concurrency = 1;
  std::vector<RoundRecord> records;
  FlatParams global = {3.0f};
  f.loop().run(1, 10, global, recording(records));
  float sequential = 3.0f;  // each client trains from the one before it
  for (const RoundRecord& r : records) {
    REQUIRE(r.clients.size() == 1);
    REQUIRE(*r.clients[0].staleness == 0);
    REQUIRE(*r.clients[0].base_version == r.round - 1);
    sequential = 0.5f * sequential + static_cast<float>(r.clients[0].id[0] - 'a' + 1);
  }
  REQUIRE(global[0] == sequential);
}

TEST_CASE("an asynchronous run continued from its checkpoint state equals the uninterrupted run", "[sim][async]") {
  Fixture f;
  f.settings.buffer_size = 2;
  f.halve = 0.5f;
  std::vector<RoundRecord> whole;
  FlatParams uninterrupted = {1.0f};
  f.loop().run(1, 6, uninterrupted, recording(whole));

  std::vector<RoundRecord> first, second;
  FlatParams global = {1.0f};
  fedglioma::StateBundle bundle;
  {
    AsyncLoop loop = f.loop();
    loop.run(1, 3, global, recording(first));
    loop.checkpoint_state().save(bundle);
  }
  AsyncState restored;
  restored.load(bundle);
  AsyncLoop again = f.loop();
  again.restore(restored);
  again.run(4, 6, global, recording(second));
  first.insert(first.end(), second.begin(), second.end());
  REQUIRE(applied(first) == applied(whole));
  REQUIRE(global == uninterrupted);
}

TEST_CASE("a simulated-time budget ends the run at the last step within it, evaluated as the last", "[sim][async]") {
  Fixture f;
  f.settings.budget_s = 3.2;
  std::vector<RoundRecord> records;
  std::vector<int> last_evaluated;
  RoundHooks hooks = recording(records);
  hooks.evaluate = [&](int round, bool last) -> std::optional<RoundEval> {
    if (last) last_evaluated.push_back(round);
    return std::nullopt;
  };
  FlatParams global = {0.0f};
  REQUIRE(f.loop().run(1, 100, global, hooks) == 4);  // steps at t = 1, 2, 2.5, 3; the next at 4
  REQUIRE(last_evaluated == std::vector<int>{4});
  f.settings.budget_s = 0.5;
  REQUIRE_THROWS_WITH(f.loop().run(1, 100, global, hooks), Catch::Contains("no server step completes within it"));
}

TEST_CASE("DP under FedBuff charges each step to the sites in its buffer: the per-site ledger of a hand schedule",
          "[sim][async][dp]") {
  // The schedule above: steps by a, a, b, a, a, c, a, b.
  Fixture f;
  DpSettings dp;
  dp.client_ids = f.settings.client_ids;
  dp.weights.assign(3, 1.0);
  dp.total_weight = 1.0;  // K
  dp.config.enabled = true;
  dp.config.noise_multiplier = 1.5;
  dp.config.clip_norm = 10.0;
  dp.delta = 1e-3;
  dp.charge_contributors = true;
  DpMechanism mechanism(dp);
  f.settings.dp = &mechanism;
  std::vector<RoundRecord> records;
  FlatParams global = {0.0f};
  f.loop().run(1, 8, global, recording(records));
  const auto epsilon_after = [](int releases) {
    fedglioma::RdpAccountant a;
    a.add(1.0, 1.5, releases);
    return a.spent(1e-3).epsilon;
  };
  REQUIRE(mechanism.ledger().site(0).epsilon == Approx(epsilon_after(5)));
  REQUIRE(mechanism.ledger().site(1).epsilon == Approx(epsilon_after(2)));
  REQUIRE(mechanism.ledger().site(2).epsilon == Approx(epsilon_after(1)));
  REQUIRE(records[2].privacy->sites.at("b") == Approx(epsilon_after(1)));  // b's first release
  REQUIRE(records.back().privacy->epsilon == Approx(epsilon_after(5)));   // the run's: a's
  // A target that a's sixth release would pass (at t = 6, step 9) stops the run after step 8.
  Fixture g;
  DpSettings capped = dp;
  capped.config.target_epsilon = (epsilon_after(5) + epsilon_after(6)) / 2;
  DpMechanism limited(capped);
  g.settings.dp = &limited;
  std::vector<RoundRecord> stopped;
  FlatParams again = {0.0f};
  REQUIRE(g.loop().run(1, 100, again, recording(stopped)) == 8);
  REQUIRE_THAT(*stopped.back().privacy->stopped, Catch::StartsWith("round 9 would spend epsilon"));
}

TEST_CASE("a site whose next release would exceed site_target_epsilon is retired and sends no more", "[sim][async][dp]") {
  Fixture f;
  DpSettings dp;
  dp.client_ids = f.settings.client_ids;
  dp.weights.assign(3, 1.0);
  dp.total_weight = 1.0;
  dp.config.enabled = true;
  dp.config.noise_multiplier = 1.5;
  dp.config.clip_norm = 10.0;
  dp.delta = 1e-3;
  dp.charge_contributors = true;
  fedglioma::RdpAccountant five, six;
  five.add(1.0, 1.5, 5);
  six.add(1.0, 1.5, 6);
  dp.config.site_target_epsilon = (five.spent(1e-3).epsilon + six.spent(1e-3).epsilon) / 2;  // a: 5 releases
  DpMechanism mechanism(dp);
  f.settings.dp = &mechanism;
  std::vector<RoundRecord> records;
  FlatParams global = {0.0f};
  // Every site retires after its fifth release (a first, at step 7); then no buffer can fill and the run ends.
  REQUIRE(f.loop().run(1, 100, global, recording(records)) == 15);
  std::map<std::string, int> releases;
  for (const RoundRecord& r : records)
    for (const ClientRecord& c : r.clients) releases[c.id] += c.status == "ok";
  REQUIRE(releases == std::map<std::string, int>{{"a", 5}, {"b", 5}, {"c", 5}});
  for (std::size_t i = 0; i < 3; ++i) REQUIRE(mechanism.ledger().site(i).epsilon <= dp.config.site_target_epsilon);
  REQUIRE(records[5].privacy->retired.empty());
  REQUIRE(records[6].privacy->retired == std::vector<std::string>{"a"});
}
