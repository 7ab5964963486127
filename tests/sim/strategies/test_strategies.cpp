// Every strategy end to end on the tiny cohort, the invariants that tie strategies together, and
// what strategies keep per client (SCAFFOLD variates, FedBN norm layers).
#include <catch2/catch.hpp>

#include <torch/types.h>

#include "sim/strategy/strategy.h"
#include "sim/strategy/strategy_registry.h"
#include "tests/support/fixtures.h"

using fedglioma::FlatParams;
using fedglioma::testing::metrics_of;
using fedglioma::testing::read_rounds;
using fedglioma::testing::tiny_run;
using namespace fedglioma::sim;

namespace {

// Four IID clients, so that sampling, Krum and three workers all have clients to work with.
std::vector<std::string> four_clients(const std::string& strategy, int workers) {
  return {"partition.scheme=iid", "partition.num_clients=4", "partition.val_fraction=0.2",
          "federation.strategy.name=" + strategy, "runtime.workers=" + std::to_string(workers)};
}

// The same config and seed give identical metrics with 1, 2 and 3 workers.
void check_strategy_determinism(const std::string& strategy) {
  const auto one = read_rounds(tiny_run(strategy + "-w1", four_clients(strategy, 1)));
  REQUIRE(one.size() == 2);
  for (const auto& line : one) {
    REQUIRE(line["clients"].size() == 4);
    for (const auto& c : line["clients"]) REQUIRE(c["status"] == "ok");
    REQUIRE_FALSE(line.contains("skipped"));
  }
  for (int workers : {2, 3}) {
    const auto other = read_rounds(tiny_run(strategy + "-w" + std::to_string(workers), four_clients(strategy, workers)));
    REQUIRE(other.size() == one.size());
    for (std::size_t r = 0; r < one.size(); ++r) REQUIRE(metrics_of(other[r]).dump() == metrics_of(one[r]).dump());
  }
}

}  // namespace

// One test case per registered strategy, made from the registry when the test binary starts: a
// new strategy file gets its determinism test with nothing to list here.
class StrategyDeterminism : public Catch::ITestInvoker {
 public:
  explicit StrategyDeterminism(std::string name) : name_(std::move(name)) {}
  void invoke() const override { check_strategy_determinism(name_); }

 private:
  std::string name_;
};

const bool kDeterminismTests = [] {
  for (const std::string& name : strategy_names()) {
    const std::string title = "strategy " + name + " gives identical metrics with 1 2 and 3 workers";
    Catch::getMutableRegistryHub().registerTest(Catch::makeTestCase(
        new StrategyDeterminism(name), "", Catch::NameAndTags{title, "[sim][strategy][determinism]"},
        CATCH_INTERNAL_LINEINFO));  // makeTestCase copies the name and tags
  }
  return true;
}();

TEST_CASE("label-aware fedavg and fine-tuning give identical metrics with 1 and 3 workers",
          "[sim][strategy][determinism]") {
  for (const std::string extra : {"federation.strategy.label_aware=true", "eval.finetune_epochs=1"}) {
    INFO(extra);
    auto one = four_clients("fedavg", 1), three = four_clients("fedavg", 3);
    one.push_back(extra);
    three.push_back(extra);
    const auto a = read_rounds(tiny_run("variant-w1", one)), b = read_rounds(tiny_run("variant-w3", three));
    REQUIRE(a.size() == 2);
    for (std::size_t r = 0; r < a.size(); ++r) REQUIRE(metrics_of(a[r]).dump() == metrics_of(b[r]).dump());
  }
}

TEST_CASE("FedProx with mu 0 and FedAvgM with momentum 0 and lr 1 are FedAvg end to end", "[sim][strategy]") {
  const auto fedavg = read_rounds(tiny_run("inv-fedavg", {}));
  const auto prox0 = read_rounds(tiny_run("inv-prox0", {"federation.strategy.name=fedprox", "federation.strategy.mu=0"}));
  const auto avgm = read_rounds(tiny_run("inv-avgm", {"federation.strategy.name=fedavgm"}));
  const auto prox = read_rounds(tiny_run("inv-prox", {"federation.strategy.name=fedprox", "federation.strategy.mu=1"}));
  const auto scaffold = read_rounds(tiny_run("inv-scaffold", {"federation.strategy.name=scaffold"}));
  REQUIRE(metrics_of(prox0.back()).dump() == metrics_of(fedavg.back()).dump());
  REQUIRE(metrics_of(avgm.back()).dump() == metrics_of(fedavg.back()).dump());
  // The proximal term and SCAFFOLD's correction change training: the comparisons above can fail.
  REQUIRE(metrics_of(prox.back()).dump() != metrics_of(fedavg.back()).dump());
  REQUIRE(metrics_of(scaffold.back()).dump() != metrics_of(fedavg.back()).dump());
}

TEST_CASE("a strategy parameter of another strategy is an unknown key", "[sim][strategy][config]") {
  REQUIRE_THROWS_WITH(tiny_run("bad-param", {"federation.strategy.name=fedavg", "federation.strategy.mu=0.1"}),
                      Catch::Contains("federation.strategy.mu"));
  REQUIRE_THROWS_WITH(tiny_run("bad-name", {"federation.strategy.name=fedsgd"}),
                      Catch::Contains("federation.strategy.name") && Catch::Contains("fedsgd"));
}

namespace {

// What a task's hook adds to zero gradients of one flat parameter holding `task.start`: SCAFFOLD's
// correction, FedProx's proximal term at the start (zero). Empty without a hook.
FlatParams added_gradient(const ClientTask& task) {
  if (!task.hook) return {};
  const auto n = static_cast<std::int64_t>(task.start.size());
  torch::Tensor p = torch::from_blob(const_cast<float*>(task.start.data()), {n}, torch::kFloat32).clone().requires_grad_();
  p.mutable_grad() = torch::zeros_like(p);
  task.hook->begin({p}, c10::Device(c10::kCPU));
  task.hook->adjust_gradients();
  const torch::Tensor g = p.grad().contiguous();
  return FlatParams(g.data_ptr<float>(), g.data_ptr<float>() + n);
}

ClientUpdate update_of(FlatParams params, std::size_t samples, std::int64_t steps, double lr = 0.1) {
  ClientUpdate u;
  u.params = std::move(params);
  u.samples = samples;
  u.weight = static_cast<double>(samples);
  u.steps = steps;
  u.lr = lr;
  return u;
}

}  // namespace

TEST_CASE("FedBN clients start from the global model with their own normalisation layers", "[sim][strategy]") {
  ClientStateStore clients(fedglioma::testing::temp_dir("fedbn-state") / "spill", 0);  // all of it on disk
  StrategyContext context{2, {{1, 3}}, &clients};
  StrategyConfig config = StrategyConfig::defaults("fedbn");
  auto fedbn = make_strategy(config, context);
  const FlatParams global = {0, 0, 0, 0};
  REQUIRE(fedbn->configure(0, global).start == global);  // no local layers before the first round
  const FlatParams next = aggregate_round(*fedbn, global, {{0, update_of({1, 10, 20, 1}, 1, 1)},
                                                          {1, update_of({3, 30, 40, 3}, 3, 1)}});
  REQUIRE(next == FlatParams{2.5f, 25.0f, 35.0f, 2.5f});  // the sample-weighted mean, norm layers included
  REQUIRE(fedbn->configure(0, next).start == FlatParams{2.5f, 10.0f, 20.0f, 2.5f});
  REQUIRE(fedbn->configure(1, next).start == FlatParams{2.5f, 30.0f, 40.0f, 2.5f});
  // The local layers are the clients' (the run's ClientStateStore), not the strategy's.
  REQUIRE(clients.buffer(1, "fedbn.norms") == FlatParams{30.0f, 40.0f});
  auto restored = make_strategy(config, context);
  REQUIRE(restored->configure(1, next).start == fedbn->configure(1, next).start);
  REQUIRE_THROWS_WITH(make_strategy(config, StrategyContext{2, {}, &clients}), Catch::Contains("fedbn"));
}

TEST_CASE("SCAFFOLD's variates use the rate each round trained at under a cosine schedule", "[sim][strategy]") {
  // Two rounds of a two-round cosine schedule to 0: round 1 trains at 0.1, round 2 at 0.05.
  TrainConfig train;
  train.lr = 0.1;
  train.lr_schedule = "cosine";
  train.lr_min = 0.0;
  const double lr1 = round_lr(train, 1, 2), lr2 = round_lr(train, 2, 2);
  REQUIRE(lr2 == Approx(0.05));
  ClientStateStore clients(fedglioma::testing::temp_dir("scaffold-cosine") / "spill", 1 << 20);
  StrategyContext context{2, {}, &clients};
  auto scaffold = make_strategy(StrategyConfig::defaults("scaffold"), context);
  const FlatParams x0 = {1, 2};
  const std::vector<FlatParams> y1 = {{0.5f, 1.0f}, {1.5f, 2.5f}}, y2 = {{0.25f, 0.75f}, {2.0f, 3.0f}};
  const FlatParams x1 = aggregate_round(*scaffold, x0, {{0, update_of(y1[0], 4, 5, lr1)}, {1, update_of(y1[1], 4, 5, lr1)}});
  const FlatParams x2 = aggregate_round(*scaffold, x1, {{0, update_of(y2[0], 4, 3, lr2)}, {1, update_of(y2[1], 4, 3, lr2)}});
  REQUIRE(x2.size() == 2);
  // Option II with each round's own rate: c_i+ = c_i - c + (x - y_i) / (K lr); c+ = c + mean(c_i+ - c_i).
  double c_i1[2][2], c1[2] = {0, 0}, c_i2[2][2], c2[2];
  for (int i = 0; i < 2; ++i)
    for (int k = 0; k < 2; ++k) {
      c_i1[i][k] = (x0[k] - y1[i][k]) / (5 * lr1);
      c1[k] += c_i1[i][k] / 2;
    }
  for (int k = 0; k < 2; ++k) c2[k] = c1[k];
  for (int i = 0; i < 2; ++i)
    for (int k = 0; k < 2; ++k) {
      c_i2[i][k] = c_i1[i][k] - c1[k] + (x1[k] - y2[i][k]) / (3 * lr2);
      c2[k] += (c_i2[i][k] - c_i1[i][k]) / 2;
    }
  for (std::size_t i = 0; i < 2; ++i) {
    const FlatParams ci = clients.buffer(i, "scaffold.c");
    const FlatParams correction = added_gradient(scaffold->configure(i, x2));
    for (std::size_t k = 0; k < 2; ++k) {
      INFO("client " << i << ", parameter " << k);
      REQUIRE(ci[k] == Approx(c_i2[i][k]).epsilon(1e-6));
      REQUIRE(correction[k] == Approx(c2[k] - c_i2[i][k]).epsilon(1e-6).margin(1e-6));
    }
  }
}

TEST_CASE("SCAFFOLD keeps a control variate per client and corrects their gradients with c - c_i",
          "[sim][strategy]") {
  ClientStateStore clients(fedglioma::testing::temp_dir("scaffold-state") / "spill", 1 << 20);
  StrategyContext context{3, {}, &clients};
  auto scaffold = make_strategy(StrategyConfig::defaults("scaffold"), context);
  const FlatParams global = {1, 1};
  REQUIRE(!scaffold->configure(0, global).hook);  // c = c_i = 0 at first
  // Client 0 moved from 1 to 0 in 2 steps at lr 0.5: c_0 = (1 - 0) / (2 * 0.5) = 1 per value.
  const FlatParams next = aggregate_round(*scaffold, global, {{0, update_of({0, 0}, 4, 2, 0.5)}});
  REQUIRE(next == FlatParams{0, 0});  // server lr 1: the mean update
  // c = 0 + (1/3) * mean(delta c_i) = 1/3; client 0: c - c_0 = 1/3 - 1; client 1 (no c_i yet): 1/3.
  REQUIRE(added_gradient(scaffold->configure(0, next))[0] == Approx(1.0 / 3.0 - 1.0));
  REQUIRE(added_gradient(scaffold->configure(1, next))[1] == Approx(1.0 / 3.0));
  // c is the strategy's (its checkpoint state), c_i the client's (the store).
  REQUIRE(clients.buffer(0, "scaffold.c") == FlatParams{1, 1});
  REQUIRE_FALSE(clients.contains(1, "scaffold.c"));
  fedglioma::StateBundle state;
  scaffold->save(state);
  auto restored = make_strategy(StrategyConfig::defaults("scaffold"), context);
  restored->load(state);
  REQUIRE(added_gradient(restored->configure(0, next)) == added_gradient(scaffold->configure(0, next)));
  REQUIRE(added_gradient(restored->configure(1, next)) == added_gradient(scaffold->configure(1, next)));
}
