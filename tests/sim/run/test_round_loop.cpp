// The round loop with injected clients: what it does with clients that fail or return
// non-finite weights, with rounds below min_clients, and in which order updates are aggregated.
#include <catch2/catch.hpp>

#include <cmath>
#include <limits>
#include <sstream>

#include "core/error.h"
#include "sim/state/client_state.h"
#include "sim/workers/executor.h"
#include "sim/processes/processes.h"
#include "sim/record/progress.h"
#include "sim/run/round_loop.h"
#include "sim/strategy/strategy.h"
#include "sim/strategy/strategy_registry.h"
#include "tests/support/fixtures.h"

using fedglioma::FlatParams;
using namespace fedglioma::sim;

namespace {

// Five clients a..e with 1..5 training cases. Client k returns k + 1 in every weight, except:
// b throws, c returns a NaN weight, e returns an infinite loss.
ClientUpdate injected(const ClientTask& task, std::size_t client) {
  if (client == 1) throw fedglioma::DataError("case b-3: scan unreadable");
  ClientUpdate u;
  u.params.assign(task.start.size(), static_cast<float>(client + 1));
  if (client == 2) u.params[0] = std::numeric_limits<float>::quiet_NaN();
  u.samples = client + 1;
  u.weight = static_cast<double>(client + 1);
  u.train_loss = client == 4 ? std::numeric_limits<double>::infinity() : 0.5;
  u.steps = 1;
  return u;
}

struct Fixture {
  ClientStateStore state{fedglioma::testing::temp_dir("round-loop") / "spill", 1 << 20};
  std::ostringstream console;
  RoundProgress progress{console, false, 1, 1};
  SingleProcess processes;
  Executor executor{2, 1, {"cpu"}, fedglioma::testing::tiny_model()};
  RoundLoopSettings settings;
  std::unique_ptr<Strategy> strategy;
  std::vector<std::size_t> order;  // the clients in the order the aggregator saw them

  explicit Fixture(const std::string& name, int min_clients = 1) {
    settings.client_ids = {"a", "b", "c", "d", "e"};
    settings.client_samples = {1, 2, 3, 4, 5};
    settings.min_clients = min_clients;
    StrategyContext context;
    context.num_clients = 5;
    context.client_state = &state;
    context.min_clients = min_clients;
    strategy = make_strategy(StrategyConfig::defaults(name), context);
  }
  RoundLoop loop() {
    return RoundLoop(*strategy, executor,
                     [](Worker&, const ClientTask& task, std::size_t client, int) { return injected(task, client); },
                     state, settings, progress, processes);
  }
};

}  // namespace

TEST_CASE("a client that fails or returns non-finite weights or loss is logged and left out of the aggregate",
          "[sim][round_loop]") {
  for (const std::string name : {"fedavg", "fedmedian"}) {  // a streaming and a buffering aggregator
    Fixture f(name);
    FlatParams global = {0, 0, 0};
    const RoundRecord record = f.loop().train_round(1, global);
    REQUIRE(record.clients.size() == 5);
    REQUIRE(record.clients[0].status == "ok");
    REQUIRE(record.clients[1].status == "failed: case b-3: scan unreadable");
    REQUIRE_FALSE(record.clients[1].train_loss.has_value());
    REQUIRE(record.clients[2].status == "non-finite update");
    REQUIRE(record.clients[3].status == "ok");
    REQUIRE(record.clients[4].status == "non-finite update");
    REQUIRE_FALSE(record.skipped);
    // Only a (weight 1, values 1) and d (weight 4, values 4) are aggregated.
    const float expected = name == "fedavg" ? (1.0f * 1 + 4.0f * 4) / 5 : (1.0f + 4.0f) / 2;
    REQUIRE(global == FlatParams{expected, expected, expected});
  }
}

TEST_CASE("data changed under the run stops it instead of leaving the client out", "[sim][round_loop]") {
  Fixture f("fedavg");
  FlatParams global = {0, 0};
  RoundLoop loop(*f.strategy, f.executor,
                 [](Worker&, const ClientTask& task, std::size_t client, int) {
                   if (client == 3) throw fedglioma::DataChangedError("case d-1: its source files changed");
                   return injected(task, client);
                 },
                 f.state, f.settings, f.progress, f.processes);
  REQUIRE_THROWS_AS(loop.train_round(1, global), fedglioma::DataChangedError);
}

TEST_CASE("a round with fewer usable updates than min_clients keeps the model, and stop ends the run after logging it",
          "[sim][round_loop]") {
  Fixture f("fedavg", 3);  // only a and d are usable
  FlatParams global = {0, 0};
  const RoundRecord record = f.loop().train_round(1, global);
  REQUIRE(record.skipped == std::string("2 usable update(s), fewer than federation.min_clients = 3"));
  REQUIRE(global == FlatParams{0, 0});

  f.settings.stop_below_min_clients = true;
  std::vector<int> reported, checkpointed;
  RoundHooks hooks;
  hooks.report = [&](const RoundRecord& r) { reported.push_back(r.round); };
  hooks.checkpoint = [&](int round, bool) { checkpointed.push_back(round); };
  REQUIRE_THROWS_WITH(f.loop().run(1, 3, global, hooks), Catch::Contains("round 1") && Catch::Contains("stopping"));
  REQUIRE(reported == std::vector<int>{1});
  REQUIRE(checkpointed.empty());
}

TEST_CASE("the round loop runs annotate, evaluate, report and checkpoint in that order each round",
          "[sim][round_loop]") {
  Fixture f("fedavg");
  FlatParams global = {0};
  std::vector<std::string> calls;
  RoundHooks hooks;
  hooks.annotate = [&](RoundRecord& r, const FlatParams& now) {
    calls.push_back("annotate " + std::to_string(r.round) + " " + std::to_string(now[0]));
  };
  hooks.evaluate = [&](int round, bool last) -> std::optional<RoundEval> {
    calls.push_back("evaluate " + std::to_string(round) + (last ? " last" : ""));
    return std::nullopt;
  };
  hooks.report = [&](const RoundRecord& r) { calls.push_back("report " + std::to_string(r.round)); };
  hooks.checkpoint = [&](int round, bool last) {
    calls.push_back("checkpoint " + std::to_string(round) + (last ? " last" : ""));
  };
  f.loop().run(2, 3, global, hooks);
  REQUIRE(calls == std::vector<std::string>{"annotate 2 3.400000", "evaluate 2", "report 2", "checkpoint 2",
                                            "annotate 3 3.400000", "evaluate 3 last", "report 3", "checkpoint 3 last"});
}
