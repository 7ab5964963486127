// The run folder's reporters (sim/record/reporters.h), fed round records by hand.
#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include <sstream>

#include "core/atomic_file.h"
#include "core/error.h"
#include "sim/record/reporters.h"
#include "sim/record/run_log.h"
#include "sim/record/selection.h"
#include "tests/support/fixtures.h"

namespace fs = std::filesystem;

TEST_CASE("the run's reporters write rounds.jsonl as rounds end, which the one reader reads back, and the rest at the end",
          "[sim][run][reporters]") {
  const fs::path dir = fedglioma::testing::temp_dir("reporters");
  std::ostringstream console;
  fedglioma::sim::ReporterSettings settings;
  settings.facts.rule = fedglioma::sim::parse_selection_rule("val.dice_mean");
  const auto reporters = fedglioma::sim::run_reporters(dir, console, settings);
  std::vector<fedglioma::sim::RoundRecord> history(2);
  for (int r = 0; r < 2; ++r) {
    history[r].round = r + 1;
    history[r].seconds = 0.5 * (r + 1);
    fedglioma::sim::ClientRecord client;
    client.id = "site, \"a\"";
    client.samples = 3;
    client.train_loss = 0.25;
    history[r].clients.push_back(client);
  }
  for (const auto& rep : reporters) rep->start();
  for (const auto& record : history)
    for (const auto& rep : reporters) rep->round(record);
  REQUIRE_THAT(console.str(), Catch::Contains("round") && Catch::Contains("0.250"));
  REQUIRE_FALSE(fs::exists(dir / "summary.json"));  // nothing final before the end
  const auto back = fedglioma::sim::read_rounds_file(dir / "rounds.jsonl", "test");
  REQUIRE(back.rounds.size() == 2);
  REQUIRE(back.rounds[1].round == 2);
  REQUIRE(back.rounds[1].clients[0].id == "site, \"a\"");
  REQUIRE(fedglioma::sim::round_json_line(back.rounds[0]) == fedglioma::sim::round_json_line(history[0]));
  for (const auto& rep : reporters) rep->finish(history, {1.5, 1.5, 1});
  REQUIRE(fs::exists(dir / "metrics.csv"));
  REQUIRE(nlohmann::json::parse(fedglioma::read_file(dir / "summary.json"))["seconds_total"] == 1.5);
  REQUIRE(fs::exists(dir / "tensorboard"));
  REQUIRE_FALSE(fs::exists(dir / "roc.csv"));  // no round was evaluated: nothing selected, no curves
  // A damaged line is named by file and line.
  fedglioma::append_line(dir / "rounds.jsonl", "{\"round\": ");
  REQUIRE_THROWS_WITH(fedglioma::sim::read_rounds_file(dir / "rounds.jsonl", "delete it"),
                      Catch::Contains("rounds.jsonl' line 3 is damaged") && Catch::Contains("delete it"));
}
