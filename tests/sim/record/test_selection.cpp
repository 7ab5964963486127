// The round a run reports is chosen on validation cases (eval.select_by), never on the external
// or test set: summary.json's `selected` and `final`, and the refusals of a rule that would
// choose on a test set.
#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include <stdexcept>

#include "core/atomic_file.h"
#include "core/error.h"
#include "experiments/config_json.h"
#include "sim/record/run_log.h"
#include "sim/record/selection.h"
#include "tests/support/fixtures.h"

namespace {

using fedglioma::sim::RoundRecord;
using nlohmann::json;

// A round whose validation and external mean Dice (and IDH AUCs) are given.
RoundRecord round_with(int round, double val_dice, double external_dice, double val_auc_idh = 0.5) {
  RoundRecord r;
  r.round = round;
  fedglioma::sim::RoundEval e;
  e.val.n = 6;
  e.val.dice_mean = val_dice;
  e.val.auc[0] = val_auc_idh;
  e.external.n = 6;
  e.external.dice_mean = external_dice;
  r.eval = e;
  return r;
}

json summary_of(const std::vector<RoundRecord>& rounds, const std::string& rule) {
  fedglioma::sim::RunFacts facts;
  facts.rule = fedglioma::sim::parse_selection_rule(rule);
  return json::parse(fedglioma::sim::summary_json(rounds, {}, facts));
}

}  // namespace

TEST_CASE("summary.json reports the round chosen on validation, not the external optimum", "[sim][selection]") {
  // Validation peaks in round 2, the external set in round 3.
  const std::vector<RoundRecord> rounds = {round_with(1, 0.5, 0.60), round_with(2, 0.8, 0.65), round_with(3, 0.7, 0.90)};
  const json s = summary_of(rounds, "val.dice_mean");
  REQUIRE(s["selected"]["round"] == 2);
  REQUIRE(s["selected"]["rule"] == "val.dice_mean");
  REQUIRE(s["selected"]["score"].get<double>() == 0.8);
  REQUIRE(s["selected"]["eval"]["external"]["dice_mean"].get<double>() == 0.65);  // reported, not chosen on
  REQUIRE(s["final"]["round"] == 3);
  REQUIRE_FALSE(s.contains("best"));
  REQUIRE_FALSE(s.contains("best_by"));
  // The mean of several validation metrics: round 1's IDH AUC outweighs its Dice.
  const std::vector<RoundRecord> mixed = {round_with(1, 0.6, 0.1, 0.95), round_with(2, 0.7, 0.9, 0.5)};
  REQUIRE(summary_of(mixed, "mean(val.dice_mean, val.auc.idh)")["selected"]["round"] == 1);
  REQUIRE(summary_of(mixed, "val.dice_mean")["selected"]["round"] == 2);
  // Equal scores: the earliest round.
  REQUIRE(summary_of({round_with(1, 0.7, 0.1), round_with(2, 0.7, 0.9)}, "val.dice_mean")["selected"]["round"] == 1);
}

TEST_CASE("without validation cases the final round is reported, and says why", "[sim][selection]") {
  std::vector<RoundRecord> rounds = {round_with(1, 0.9, 0.2), round_with(2, 0.1, 0.3)};
  for (auto& r : rounds) r.eval->val = {};
  const json s = summary_of(rounds, "val.dice_mean");
  REQUIRE(s["selected"]["round"] == 2);
  REQUIRE(s["selected"]["rule"] == "final");
  REQUIRE(s["selected"]["score"].is_null());
  REQUIRE_THAT(s["selected"]["reason"].get<std::string>(), Catch::Contains("no validation cases"));
  // An AUC undefined in every round (one class) falls back likewise, naming the rule.
  std::vector<RoundRecord> one_class = {round_with(1, 0.9, 0.2), round_with(2, 0.1, 0.3)};
  for (auto& r : one_class) r.eval->val.auc[0] = std::nullopt;
  REQUIRE_THAT(summary_of(one_class, "val.auc.idh")["selected"]["reason"].get<std::string>(),
               Catch::Contains("'val.auc.idh' is undefined in every evaluated round"));
  // No evaluated round at all: nothing selected.
  REQUIRE(summary_of({RoundRecord{}}, "val.dice_mean")["selected"].is_null());
}

TEST_CASE("eval.select_by refuses a test-set metric and an unknown one, naming the key", "[sim][selection][config]") {
  using fedglioma::sim::parse_selection_rule;
  REQUIRE_THROWS_WITH(parse_selection_rule("external.dice_mean"), Catch::Contains("not a validation metric"));
  REQUIRE_THROWS_WITH(parse_selection_rule("test.auc.idh"), Catch::Contains("not a validation metric"));
  REQUIRE_THROWS_WITH(parse_selection_rule("val.hd95"), Catch::Contains("not a metric fedglioma selects on"));
  REQUIRE_THROWS_WITH(parse_selection_rule("mean(val.dice_mean, external.auc.idh)"),
                      Catch::Contains("'external.auc.idh' is not a validation metric"));
  REQUIRE_THROWS_WITH(parse_selection_rule("mean(val.dice_mean"), Catch::Contains("closing ')'"));
  REQUIRE(parse_selection_rule("mean(val.dice_mean, val.auc.mgmt)").metrics.size() == 2);

  const auto dir = fedglioma::testing::temp_dir("select-by-config");
  fedglioma::write_file_atomic(dir / "tiny.json", fedglioma::testing::tiny_config_json());
  REQUIRE_THROWS_AS(fedglioma::experiments::load_config(dir / "tiny.json", {"eval.select_by=external.dice_mean"}),
                    fedglioma::ConfigError);
  REQUIRE_THROWS_WITH(fedglioma::experiments::load_config(dir / "tiny.json", {"eval.select_by=external.dice_mean"}),
                      Catch::StartsWith("--set eval.select_by=external.dice_mean: eval.select_by: 'external.dice_mean' is not a validation metric"));
  REQUIRE(fedglioma::experiments::load_config(dir / "tiny.json", {"eval.select_by=val.auc.idh"}).config.eval.select_by ==
          "val.auc.idh");
}

TEST_CASE("a run's summary.json selects its round on validation and keeps that round's files", "[sim][selection]") {
  const auto run = fedglioma::testing::tiny_run("selection-run", {"federation.rounds=3"});
  const json s = json::parse(fedglioma::read_file(run / "summary.json"));
  const auto rounds = fedglioma::testing::read_rounds(run);
  int chosen = 0;
  double best = -1;
  for (const json& r : rounds)
    if (r["eval"]["val"]["dice_mean"].get<double>() > best) best = r["eval"]["val"]["dice_mean"], chosen = r["round"];
  REQUIRE(s["selected"]["round"] == chosen);
  REQUIRE(s["final"]["round"] == 3);
  // selected/ holds the chosen round's predictions and model.
  REQUIRE(std::filesystem::exists(run / "selected" / "model.pt"));
  const std::string predictions = fedglioma::read_file(run / "selected" / "predictions.csv");
  REQUIRE_THAT(predictions, Catch::Contains("\n" + std::to_string(chosen) + ","));
}
