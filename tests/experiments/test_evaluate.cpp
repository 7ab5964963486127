// `fedglioma evaluate`: a finished run's final models on its own sets (its final evaluation
// exactly) and on another cohort, never on cases it trained on.
#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include <sstream>

#include "core/atomic_file.h"
#include "core/error.h"
#include "experiments/cli_evaluate.h"
#include "tests/support/fixtures.h"

namespace fs = std::filesystem;
using fedglioma::testing::read_rounds;
using fedglioma::testing::tiny_run;
using nlohmann::json;

namespace {

fs::path evaluate(const fs::path& run, const fs::path& cases = {}, const std::string& split = {},
                  const fs::path& out = {}) {
  fedglioma::experiments::EvaluateOptions options;
  options.run_dir = run;
  options.out = out;
  options.cases = cases;
  options.split = split;
  std::ostringstream console;
  return fedglioma::experiments::run_evaluate(options, console);
}

}  // namespace

TEST_CASE("evaluate on a run reproduces the run's own final evaluation exactly", "[experiments][evaluate]") {
  for (const std::string strategy : {"fedavg", "fedper"}) {
    const fs::path run = tiny_run("evaluate-" + strategy, {"federation.strategy.name=" + strategy});
    const fs::path out = evaluate(run);
    const json evaluation = json::parse(fedglioma::read_file(out / "evaluation.json"));
    REQUIRE(evaluation["eval"].dump() == read_rounds(run).back()["eval"].dump());
    REQUIRE(fedglioma::read_file(out / "predictions.csv") == fedglioma::read_file(run / "predictions.csv"));
  }
}

TEST_CASE("evaluate on another cohort reports the global and each site's model, never on trained cases",
          "[experiments][evaluate]") {
  const fs::path run = tiny_run("evaluate-other", {"federation.strategy.name=ditto"});
  // Another cohort: its external cases are new to the run.
  const fs::path other = fedglioma::testing::synthetic_cohort("evaluate-cohort", 3, 99);
  const fs::path out = evaluate(run, other, "external");
  const json eval = json::parse(fedglioma::read_file(out / "evaluation.json"))["eval"];
  REQUIRE(eval["external"]["n"] == 4);
  REQUIRE(eval["personal"].size() == 2);
  REQUIRE(eval["personal"]["site-a"]["external"]["n"] == 4);
  // The run's own manifest holds its training cases: refused, naming one, and nothing written.
  const fs::path manifest = fedglioma::testing::tiny_cohort();
  REQUIRE_THROWS_WITH(evaluate(run, manifest, "", run / "refused"), Catch::Contains("the run trained on"));
  REQUIRE_FALSE(fs::exists(run / "refused" / "evaluation.json"));
  REQUIRE_FALSE(fs::exists(run / "refused" / "predictions.csv"));
  REQUIRE_THROWS_WITH(evaluate(run, {}, "test"), Catch::Contains("--split needs --cases"));
  REQUIRE_THROWS_WITH(evaluate(run.parent_path()), Catch::Contains("not a run folder"));
}
