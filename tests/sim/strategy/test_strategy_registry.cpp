// The strategy registry: the one place strategies are declared, from which config parsing, the
// resolved config, `fedglioma strategies` and docs/strategies.md's table come; and docs/extending.md's
// worked example of adding a strategy, compiled here.
#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include <sstream>

#include "core/atomic_file.h"
#include "experiments/cli_run.h"
#include "experiments/config_json.h"
#include "sim/strategy/aggregators.h"
#include "sim/eval/eval_plan.h"
#include "sim/strategy/strategy.h"
#include "sim/strategy/strategy_registry.h"
#include "tests/sim/strategy/examples/fedclip.inc"
#include "tests/support/fixtures.h"

using Catch::Contains;
using fedglioma::FlatParams;
using fedglioma::experiments::parse_config;
using nlohmann::json;
using namespace fedglioma::sim;

namespace {

std::string doc(const std::string& name) { return fedglioma::read_file(std::string(FEDGLIOMA_SOURCE_DIR) + "/docs/" + name); }

std::string between(const std::string& text, const std::string& begin, const std::string& end) {
  const auto a = text.find(begin), b = text.find(end);
  REQUIRE(a != std::string::npos);
  REQUIRE(b != std::string::npos);
  return text.substr(a + begin.size(), b - a - begin.size());
}

void register_example_once() {
  static const bool done = [] {
    std::vector<StrategyEntry> entries;
    register_fedclip(entries);
    add_strategy(entries.at(0));
    return true;
  }();
  REQUIRE(done);
}

// FedAvg whose evaluation reports only the pooled sets: the per-site summaries are dropped.
class PooledOnly : public Strategy {
 public:
  using Strategy::Strategy;
  std::unique_ptr<RoundAggregator> aggregator(const FlatParams& global) override {
    return weighted_mean_aggregator(*this, global);
  }
  RoundEval aggregate_evaluation(const EvalPlan& plan, const Partition& partition,
                                 const std::vector<CasePrediction>& predictions, std::uint64_t seed) const override {
    RoundEval e = Strategy::aggregate_evaluation(plan, partition, predictions, seed);
    e.sites.clear();
    return e;
  }
};

}  // namespace

TEST_CASE("a strategy's evaluation hook makes the round's metrics", "[sim][strategy]") {
  static const bool added = [] {
    StrategyEntry e;
    e.name = "pooled_only_test";
    e.summary = "test";
    e.make = make_as<PooledOnly>;
    add_strategy(e);
    return true;
  }();
  REQUIRE(added);
  const auto pooled = fedglioma::testing::read_rounds(
      fedglioma::testing::tiny_run("eval-hook", {"federation.strategy.name=pooled_only_test"}));
  const auto fedavg = fedglioma::testing::read_rounds(fedglioma::testing::tiny_run("eval-hook-fedavg", {}));
  REQUIRE(fedavg.back()["eval"]["sites"].size() == 2);
  REQUIRE(pooled.back()["eval"]["sites"].empty());
  REQUIRE(pooled.back()["eval"]["external"] == fedavg.back()["eval"]["external"]);
}

TEST_CASE("every strategy parses with its declared defaults and refuses values outside its ranges",
          "[sim][strategy][config]") {
  REQUIRE_FALSE(strategy_registry().empty());
  for (const StrategyEntry& e : strategy_registry()) {
    INFO(e.name);
    const auto loaded = parse_config("{}", {"federation.strategy.name=" + e.name}, "test");
    const json resolved = json::parse(loaded.resolved_json)["federation"]["strategy"];
    REQUIRE(resolved.size() == e.params.size() + 1);  // the name and exactly its parameters
    for (const StrategyParam& p : e.params) {
      const std::string key = "federation.strategy." + p.key;
      if (p.default_groups) {  // a list of the model's parameter group names
        REQUIRE(resolved.at(p.key) == json(*p.default_groups));
        REQUIRE(loaded.config.federation.strategy.group_list(p.key) == *p.default_groups);
        REQUIRE_THROWS_WITH(parse_config("{}", {"federation.strategy.name=" + e.name, key + "=[1]"}, "test"), Contains(key));
        continue;
      }
      if (p.boolean) {  // a switch: true or false, nothing else
        REQUIRE(resolved.at(p.key) == json(p.default_value != 0.0));
        REQUIRE(loaded.config.federation.strategy.flag(p.key) == (p.default_value != 0.0));
        REQUIRE_THROWS_WITH(parse_config("{}", {"federation.strategy.name=" + e.name, key + "=1"}, "test"), Contains(key));
        continue;
      }
      REQUIRE(resolved.at(p.key).get<double>() == p.default_value);
      REQUIRE(loaded.config.federation.strategy.param(p.key) == p.default_value);
      REQUIRE_THROWS_WITH(parse_config("{}", {"federation.strategy.name=" + e.name, key + "=" + std::to_string(p.max * 2 + 1)}, "test"),
                          Contains(key));
      if (p.integer)
        REQUIRE_THROWS_WITH(parse_config("{}", {"federation.strategy.name=" + e.name, key + "=0.5"}, "test"), Contains(key));
    }
  }
  REQUIRE_THROWS_WITH(parse_config("{}", {"federation.strategy.name=fedsgd"}, "test"),
                      Contains("federation.strategy.name") && Contains("fedavg"));
}

TEST_CASE("docs/strategies.md's table is the registry's (scripts/update_docs.sh writes it)", "[sim][strategy][docs]") {
  std::string table;
  std::istringstream rows(strategy_table_markdown());
  for (std::string row; std::getline(rows, row);)
    if (row.find("`fedclip`") == std::string::npos && row.find("_test`") == std::string::npos)
      table += row + "\n";  // not the tests' own strategies
  INFO("docs/strategies.md's generated table differs from the registry's: run scripts/update_docs.sh");
  REQUIRE(between(doc("strategies.md"), "<!-- strategies:begin (fedglioma strategies) -->\n", "<!-- strategies:end -->") == table);
}

TEST_CASE("docs/extending.md's worked example adds a strategy with two parameters in one file", "[sim][strategy][docs]") {
  REQUIRE(doc("extending.md").find(fedglioma::read_file(std::string(FEDGLIOMA_SOURCE_DIR) + "/tests/sim/strategy/examples/fedclip.inc")) !=
          std::string::npos);
  register_example_once();
  const auto loaded = parse_config("{}", {"federation.strategy.name=fedclip", "federation.strategy.server_lr=0.5"}, "t");
  REQUIRE(loaded.config.federation.strategy.param("server_lr") == 0.5);
  REQUIRE(loaded.config.federation.strategy.param("max_norm") == 1.0);
  REQUIRE_THROWS_WITH(parse_config("{}", {"federation.strategy.name=fedclip", "federation.strategy.mu=1"}, "t"),
                      Contains("federation.strategy.mu"));
  // From 0 towards (3, 4): a step of norm 5, clipped to 1 and halved.
  ClientStateStore state(fedglioma::testing::temp_dir("fedclip") / "spill", 0);
  StrategyContext context;
  context.num_clients = 1;
  auto fedclip = make_strategy(loaded.config.federation.strategy, context);
  ClientUpdate u;
  u.params = {3, 4};
  u.samples = 1;
  u.weight = 1;
  const FlatParams next = aggregate_round(*fedclip, {0, 0}, {{0, u}});
  REQUIRE(next[0] == Approx(0.3f));
  REQUIRE(next[1] == Approx(0.4f));
  // And it runs.
  const auto rounds = fedglioma::testing::read_rounds(fedglioma::testing::tiny_run("fedclip", {"federation.strategy.name=fedclip"}));
  REQUIRE(rounds.size() == 2);
  REQUIRE(rounds[1]["clients"][0]["status"] == "ok");
}

TEST_CASE("a strategy used against its assumptions is warned about: SCAFFOLD with Adam or SGD momentum",
          "[sim][strategy]") {
  const std::vector<std::pair<std::vector<std::string>, std::string>> cases = {
      {{"train.optimizer=adam"}, "with train.optimizer \"adam\""},
      {{"train.optimizer=adamw"}, "with train.optimizer \"adamw\""},
      {{"train.optimizer=sgd", "train.momentum=0.9"}, "with train.momentum 0.9"},
      {{"train.optimizer=sgd", "train.momentum=0"}, ""},
  };
  for (std::size_t k = 0; k < cases.size(); ++k) {
    const auto& [train, expected] = cases[k];
    INFO(expected);
    const auto dir = fedglioma::testing::temp_dir("scaffold-sgd-check-" + std::to_string(k));
    std::vector<std::string> overrides = {"federation.strategy.name=scaffold", "federation.rounds=1"};
    overrides.insert(overrides.end(), train.begin(), train.end());
    std::ostringstream console;
    const auto run = fedglioma::experiments::run_run(fedglioma::testing::tiny_run_options(dir, overrides), console);
    const json warnings = json::parse(fedglioma::read_file(run / "summary.json"))["warnings"];
    REQUIRE(warnings.is_array());
    if (expected.empty()) {
      REQUIRE_THAT(console.str(), !Contains("warning: federation.strategy"));
      REQUIRE(warnings.empty());
      continue;
    }
    REQUIRE_THAT(console.str(), Contains("warning: federation.strategy: scaffold assumes plain SGD") && Contains(expected));
    REQUIRE(warnings.size() == 1);
    REQUIRE_THAT(warnings[0].get<std::string>(), Contains("scaffold assumes plain SGD") && Contains(expected));
  }
  // FedAvg assumes nothing of the optimizer.
  const auto dir = fedglioma::testing::temp_dir("fedavg-no-warnings");
  std::ostringstream console;
  const auto run = fedglioma::experiments::run_run(fedglioma::testing::tiny_run_options(dir, {"federation.rounds=1"}), console);
  REQUIRE(json::parse(fedglioma::read_file(run / "summary.json"))["warnings"] == json::array());
}
