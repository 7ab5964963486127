#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include "core/atomic_file.h"
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
  REQUIRE_THAT(csv, Catch::StartsWith("point,federation.strategy.name,runtime.seed,final_dice,best_dice"));
  const std::string md = fedglioma::read_file(dir / "out" / "sweep.md");
  REQUIRE_THAT(md, Catch::Contains("| fedavg | 2 |") && Catch::Contains("| fedmedian | 2 |") && Catch::Contains("+-"));
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
