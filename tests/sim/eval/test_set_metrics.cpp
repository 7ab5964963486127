// The per-round metric seam (sim/eval/set_metrics.h): a metric declared once reaches every
// evaluation block of rounds.jsonl, the reader, metrics.csv and summary.json, as
// docs/extending.md says ("A metric").
#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <fstream>
#include <sstream>

#include "core/atomic_file.h"
#include "core/metrics.h"
#include "sim/eval/evaluation.h"
#include "sim/eval/set_metrics.h"
#include "sim/record/run_log.h"
#include "tests/support/fixtures.h"

using fedglioma::sim::CasePrediction;
using nlohmann::json;
namespace fs = std::filesystem;

namespace {

// The smallest Dice of a set: a new metric, declared the way docs/extending.md describes.
std::optional<double> dice_min(const std::vector<const CasePrediction*>& predictions) {
  std::optional<double> lowest;
  for (const CasePrediction* p : predictions)
    if (p->dice) lowest = lowest ? std::min(*lowest, *p->dice) : *p->dice;
  return lowest;
}

// The external cases' Dice in predictions.csv (the final evaluation).
std::vector<double> external_dice(const fs::path& run) {
  std::istringstream csv(fedglioma::read_file(run / "predictions.csv"));
  std::vector<double> out;
  std::string line;
  std::getline(csv, line);  // header: round,case_id,site,split,dice,...
  while (std::getline(csv, line)) {
    std::vector<std::string> cells;
    std::stringstream row(line);
    for (std::string cell; std::getline(row, cell, ',');) cells.push_back(cell);
    if (cells.at(3) == "external" && !cells.at(4).empty()) out.push_back(std::stod(cells.at(4)));
  }
  return out;
}

}  // namespace

TEST_CASE("a metric declared once in the table reaches rounds.jsonl, its reader, metrics.csv and summary.json",
          "[sim][eval][metrics]") {
  fedglioma::sim::add_set_metric({"dice_min_test", dice_min});
  struct Remove {
    ~Remove() { fedglioma::sim::remove_set_metric("dice_min_test"); }
  } remove;
  const fs::path run = fedglioma::testing::tiny_run("set-metric", {"federation.rounds=2"});
  const auto rounds = fedglioma::testing::read_rounds(run);
  const json& external = rounds.back()["eval"]["external"];
  const std::vector<double> dice = external_dice(run);
  REQUIRE_FALSE(dice.empty());
  // predictions.csv prints 9 significant digits.
  REQUIRE(external.at("dice_min_test").get<double>() == Approx(*std::min_element(dice.begin(), dice.end())).epsilon(1e-8));
  for (const auto& [site, block] : rounds.back()["eval"]["sites"].items()) REQUIRE(block.contains("dice_min_test"));
  // The one reader reads it back.
  std::ifstream lines(run / "rounds.jsonl");
  std::string last, line;
  while (std::getline(lines, line)) last = line;
  const auto record = fedglioma::sim::round_from_json_line(last);
  REQUIRE(record.eval->external.metric("dice_min_test") == external.at("dice_min_test").get<double>());
  // metrics.csv: a column after the table's earlier metrics.
  const std::string csv = fedglioma::read_file(run / "metrics.csv");
  REQUIRE_THAT(csv.substr(0, csv.find('\n')), Catch::Contains("dice_median,hd95_median,dice_tc_median,dice_et_median,hd95_tc_median,hd95_et_median,dice_min_test,auc_idh"));
  const json summary = json::parse(fedglioma::read_file(run / "summary.json"));
  REQUIRE(summary["final"]["eval"]["external"].contains("dice_min_test"));
}

TEST_CASE("the metric table refuses a name twice and keeps hd95_median first", "[sim][eval][metrics]") {
  REQUIRE(fedglioma::sim::set_metrics().at(0).name == "hd95_median");
  REQUIRE_THROWS_AS(fedglioma::sim::add_set_metric({"hd95_median", dice_min}), std::logic_error);
}
