#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdio>
#include <sstream>

#include "core/atomic_file.h"
#include "data/csv_table.h"
#include "experiments/cli_sweep.h"
#include "tests/support/fixtures.h"

namespace fs = std::filesystem;
using nlohmann::json;

TEST_CASE("a sweep runs every grid point once and writes the comparison tables", "[experiments][sweep]") {
  const fs::path dir = fedglioma::testing::temp_dir("sweep");
  fedglioma::write_file_atomic(dir / "tiny.json", fedglioma::testing::tiny_config_json());
  fedglioma::write_file_atomic(dir / "sweep.json", R"({
      "base": "tiny.json",
      "set": ["federation.rounds=1"],
      "grid": {"federation.strategy.name": ["fedavg", "fedmedian"], "runtime.seed": [1, 2]}})");
  fedglioma::experiments::SweepOptions options;
  options.sweep = dir / "sweep.json";
  options.out = dir / "out";
  std::ostringstream console;
  fedglioma::experiments::run_sweep(options, console);

  const json points = json::parse(fedglioma::read_file(dir / "out" / "points.json"));
  REQUIRE(points.size() == 4);
  REQUIRE(points[0]["name"] == "name-fedavg__seed-1");
  REQUIRE(points[3]["settings"]["federation.strategy.name"] == "fedmedian");
  for (const json& p : points) REQUIRE(fs::exists(dir / "out" / p["dir"].get<std::string>() / "summary.json"));
  const std::string csv = fedglioma::read_file(dir / "out" / "sweep.csv");
  REQUIRE(std::count(csv.begin(), csv.end(), '\n') == 5);
  REQUIRE_THAT(csv, Catch::StartsWith("point,federation.strategy.name,runtime.seed,final_round,final_set,final_interval_notes,final_dice,"
                                      "final_dice_lo,final_dice_hi,final_dice_n,final_auc_idh,final_auc_idh_lo,"
                                      "final_auc_idh_hi,final_auc_idh_n_pos,final_auc_idh_n_neg,"));
  REQUIRE_THAT(csv, Catch::Contains(",selected_round,selected_set,selected_interval_notes,selected_dice,"));
  REQUIRE_THAT(csv, !Catch::Contains("best"));
  const std::string md = fedglioma::read_file(dir / "out" / "sweep.md");
  // Two seeds per setting: the mean with the seeds' 95 % t-interval.
  REQUIRE_THAT(md, Catch::Contains("| fedavg | 2 |") && Catch::Contains("| fedmedian | 2 |") && Catch::Contains(" ["));
  REQUIRE_THAT(md, Catch::Contains("selected round") && Catch::Contains("worst-site Dice |"));
  {
    // The worst-site column: the lowest site's validation Dice of the point's final round.
    const auto table = fedglioma::data::CsvTable::read(dir / "out" / "sweep.csv");
    const auto& first = table.rows().at(0);
    const auto rounds = fedglioma::testing::read_rounds(dir / "out/points/name-fedavg__seed-1");
    double worst = 2.0;
    for (const auto& [site, e] : rounds.back()["eval"]["sites"].items()) worst = std::min(worst, e["dice_mean"].get<double>());
    char text[32];
    std::snprintf(text, sizeof text, "%.4f", worst);
    REQUIRE(first.at(table.column("final_worst_site_dice")) == text);
    // One round, with validation cases: the selected round is round 1, as the final one.
    REQUIRE(first.at(table.column("selected_round")) == "1");
    REQUIRE(first.at(table.column("final_set")) == "external");
    // Each value with its interval: lo <= value <= hi.
    // An AUC without its interval says why (the tiny cohort's external set has 4 cases).
    for (const char* m : {"idh", "codeletion_1p19q", "mgmt", "grade"}) {
      const std::string auc = first.at(table.column(std::string("final_auc_") + m));
      if (!auc.empty() && first.at(table.column(std::string("final_auc_") + m + "_lo")).empty())
        REQUIRE_THAT(first.at(table.column("final_interval_notes")), Catch::Contains(std::string("auc_") + m + ": "));
    }
    const double dice = std::stod(first.at(table.column("final_dice")));
    REQUIRE(std::stod(first.at(table.column("final_dice_lo"))) <= dice);
    REQUIRE(std::stod(first.at(table.column("final_dice_hi"))) >= dice);
  }
  // The seed changes the result, so the spread over seeds is real.
  const json a = json::parse(fedglioma::read_file(dir / "out/points/name-fedavg__seed-1/summary.json"));
  const json b = json::parse(fedglioma::read_file(dir / "out/points/name-fedavg__seed-2/summary.json"));
  REQUIRE(a["final"]["eval"] != b["final"]["eval"]);

  // A re-run skips the finished points.
  std::ostringstream again;
  fedglioma::experiments::run_sweep(options, again);
  REQUIRE_THAT(again.str(), Catch::Contains("finished before, skipped"));
  REQUIRE(fedglioma::read_file(dir / "out" / "sweep.csv") == csv);
}

TEST_CASE("a sweep file with an unknown key or a bad grid is refused before anything runs",
          "[experiments][sweep][config]") {
  const fs::path dir = fedglioma::testing::temp_dir("sweep-bad");
  fedglioma::write_file_atomic(dir / "tiny.json", fedglioma::testing::tiny_config_json());
  fedglioma::experiments::SweepOptions options;
  options.sweep = dir / "sweep.json";
  options.out = dir / "out";
  std::ostringstream console;
  fedglioma::write_file_atomic(dir / "sweep.json", R"({"base": "tiny.json", "grid": {"runtime.seed": [1]}, "seeds": 3})");
  REQUIRE_THROWS_WITH(fedglioma::experiments::run_sweep(options, console), Catch::Contains("unknown key 'seeds'"));
  fedglioma::write_file_atomic(dir / "sweep.json", R"({"base": "tiny.json", "grid": {"runtime.seed": 1}})");
  REQUIRE_THROWS_WITH(fedglioma::experiments::run_sweep(options, console), Catch::Contains("runtime.seed"));
  fedglioma::write_file_atomic(dir / "sweep.json", R"({"base": "tiny.json", "grid": {"runtime.seed": [1]}, "out": 5})");
  REQUIRE_THROWS_WITH(fedglioma::experiments::run_sweep(options, console),
                      Catch::Contains("\"out\": expected a folder path (a string), found 5"));
  fedglioma::write_file_atomic(dir / "sweep.json", R"({"base": "tiny.json", "grid": {"data.cache_dir": [")" +
                                                       std::string(250, 'c') + R"("]}})");
  REQUIRE_THROWS_WITH(fedglioma::experiments::run_sweep(options, console),
                      Catch::Contains("point name \"cache_dir-ccc") && Catch::Contains("more than 200") &&
                          Catch::Contains("shorten the grid's values"));
  REQUIRE_FALSE(fs::exists(dir / "out" / "points.json"));
}

TEST_CASE("a sweep over runtime.cpu_numerics is refused: one process computes with one", "[experiments][sweep][numerics]") {
  const fs::path dir = fedglioma::testing::temp_dir("sweep-numerics");
  fedglioma::write_file_atomic(dir / "tiny.json", fedglioma::testing::tiny_config_json());
  fedglioma::write_file_atomic(dir / "sweep.json",
                               R"({"base": "tiny.json", "grid": {"runtime.cpu_numerics": ["portable", "native"]}})");
  fedglioma::experiments::SweepOptions options;
  options.sweep = dir / "sweep.json";
  options.out = dir / "out";
  std::ostringstream console;
  REQUIRE_THROWS_WITH(fedglioma::experiments::run_sweep(options, console),
                      Catch::Contains("runtime.cpu_numerics must be the same for every point"));
  REQUIRE_FALSE(fs::exists(dir / "out" / "points.json"));
}

TEST_CASE("a sweep reruns a point whose config changed, counts repeated values once and owns its folder",
          "[experiments][sweep]") {
  const fs::path dir = fedglioma::testing::temp_dir("sweep-identity");
  fedglioma::write_file_atomic(dir / "tiny.json", fedglioma::testing::tiny_config_json());
  // 16 and [16, 16, 16] are the same grid: one point; seed 1 is listed twice: one point.
  fedglioma::write_file_atomic(dir / "sweep.json", R"({
      "base": "tiny.json", "set": ["federation.rounds=1"],
      "grid": {"data.size": [16, [16, 16, 16]], "runtime.seed": [1, 1]}})");
  fedglioma::experiments::SweepOptions options;
  options.sweep = dir / "sweep.json";
  options.out = dir / "out";
  std::ostringstream console;
  fedglioma::experiments::run_sweep(options, console);
  REQUIRE_THAT(console.str(), Catch::Contains("lists 1 more than once") && Catch::Contains("has the same config as"));
  REQUIRE(json::parse(fedglioma::read_file(dir / "out" / "points.json")).size() == 1);
  const std::string md = fedglioma::read_file(dir / "out" / "sweep.md");
  REQUIRE_THAT(md, Catch::Contains("| 1 |"));  // n = 1 run, not 4
  const fs::path point = dir / "out" / "points" / "size-16__seed-1";
  REQUIRE(fs::exists(point / "summary.json"));

  // The same grid under another fixed setting: the finished point is stale and runs again.
  options.overrides = {"train.lr=0.01"};
  std::ostringstream changed;
  fedglioma::experiments::run_sweep(options, changed);
  REQUIRE_THAT(changed.str(), Catch::Contains("its config changed since it ran: train.lr: 0.003 -> 0.01"));
  REQUIRE(json::parse(fedglioma::read_file(point / "config.resolved.json"))["train"]["lr"] == 0.01);
  std::ostringstream same;
  fedglioma::experiments::run_sweep(options, same);
  REQUIRE_THAT(same.str(), Catch::Contains("finished before, skipped"));

  // Two values that would share a folder name are refused before anything runs.
  fedglioma::write_file_atomic(dir / "clash.json", R"({
      "base": "tiny.json", "grid": {"federation.strategy.name": ["fedavg", "fedavg "]}})");
  options.sweep = dir / "clash.json";
  options.out = dir / "clash";
  REQUIRE_THROWS_WITH(fedglioma::experiments::run_sweep(options, console), Catch::Contains("would share the folder"));
  REQUIRE_FALSE(fs::exists(dir / "clash"));

  // A folder of the user's is not a sweep folder.
  fs::create_directories(dir / "mine");
  fedglioma::write_file_atomic(dir / "mine" / "notes.txt", "mine\n");
  options.sweep = dir / "sweep.json";
  options.out = dir / "mine";
  REQUIRE_THROWS_WITH(fedglioma::experiments::run_sweep(options, console), Catch::Contains("--force"));
  REQUIRE_FALSE(fs::exists(dir / "mine" / "points.json"));
}

TEST_CASE("sweep --jobs 2 runs points at once in processes of their own, with the sequential sweep's numbers",
          "[experiments][sweep][slow]") {
  const fs::path dir = fedglioma::testing::temp_dir("sweep-jobs");
  fedglioma::write_file_atomic(dir / "tiny.json", fedglioma::testing::tiny_config_json());
  fedglioma::write_file_atomic(dir / "sweep.json", R"({
      "base": "tiny.json",
      "set": ["federation.rounds=1"],
      "grid": {"federation.strategy.name": ["fedavg", "fedadam"], "runtime.seed": [1, 2]}})");
  fedglioma::experiments::SweepOptions options;
  options.sweep = dir / "sweep.json";
  options.out = dir / "sequential";
  std::ostringstream console;
  fedglioma::experiments::run_sweep(options, console);

  std::string output;
  REQUIRE(fedglioma::testing::run_command(std::string(FEDGLIOMA_BINARY) + " sweep '" + (dir / "sweep.json").string() +
                                              "' --out '" + (dir / "parallel").string() + "' --jobs 2",
                                          &output) == 0);
  INFO(output);
  REQUIRE(fedglioma::read_file(dir / "parallel" / "sweep.csv") == fedglioma::read_file(dir / "sequential" / "sweep.csv"));
  REQUIRE(fedglioma::read_file(dir / "parallel" / "sweep.md") == fedglioma::read_file(dir / "sequential" / "sweep.md"));
  REQUIRE(fs::exists(dir / "parallel" / "logs" / "name-fedadam__seed-2.log"));

  // A point that fails is named with its log; the others finish.
  fedglioma::write_file_atomic(dir / "failing.json", R"({
      "base": "tiny.json", "set": ["federation.rounds=1"], "grid": {"federation.min_clients": [1, 5]}})");
  REQUIRE(fedglioma::testing::run_command(std::string(FEDGLIOMA_BINARY) + " sweep '" + (dir / "failing.json").string() +
                                              "' --out '" + (dir / "failing").string() + "' --jobs 2",
                                          &output) == 1);
  REQUIRE_THAT(output, Catch::Contains("sweep: 1 of 2 point(s) failed (the tables hold the others); min_clients-5: exited with status 1") &&
                           Catch::Contains("logs/min_clients-5.log"));
  REQUIRE(fs::exists(dir / "failing" / "points" / "min_clients-1" / "summary.json"));
  REQUIRE_THAT(fedglioma::read_file(dir / "failing" / "sweep.csv"), Catch::Contains("\nmin_clients-1,1,"));
  REQUIRE_THAT(fedglioma::read_file(dir / "failing" / "logs" / "min_clients-5.log"), Catch::Contains("federation.min_clients"));
}
