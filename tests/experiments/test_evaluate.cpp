// `fedglioma evaluate`: a finished run's final models on its own sets (its final evaluation
// exactly) and on another cohort, never on cases it trained on.
#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include <functional>
#include <set>
#include <sstream>

#include "core/atomic_file.h"
#include "core/error.h"
#include "data/manifest.h"
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

TEST_CASE("evaluate is as strict as run: a trained patient under another id, another run's model, edited data",
          "[experiments][evaluate]") {
  const fs::path cohort = fedglioma::testing::synthetic_cohort("evaluate-strict-cohort", 6, 11);
  const fs::path run = tiny_run("evaluate-strict", {"data.manifest=" + cohort.string()});
  const json partitions = json::parse(fedglioma::read_file(run / "partitions.json"));
  const std::string trained_id = partitions["clients"][0]["train"][0].get<std::string>();
  const fedglioma::data::Manifest manifest = fedglioma::data::load_manifest(cohort);
  const fedglioma::data::Case* trained = nullptr;
  for (const auto& c : manifest.cases)
    if (c.id == trained_id) trained = &c;
  REQUIRE(trained != nullptr);

  // A training patient renamed, aliased, or copied byte for byte into another cohort.
  const fs::path dir = fedglioma::testing::temp_dir("evaluate-strict-cases");
  const auto refused_as = [&](const std::string& name, const std::function<void(fedglioma::data::Case&)>& change,
                              const std::string& why) {
    fedglioma::data::Manifest other;
    other.cases = {*trained};
    other.cases[0].id = "renamed-" + name;
    other.cases[0].split = "external";
    change(other.cases[0]);
    fedglioma::data::save_manifest(other, dir / (name + ".json"));
    INFO(name);
    REQUIRE_THROWS_WITH(evaluate(run, dir / (name + ".json"), "", dir / ("out-" + name)),
                        Catch::Contains("same patient") && Catch::Contains(trained_id) && Catch::Contains(why));
    REQUIRE_FALSE(fs::exists(dir / ("out-" + name) / "evaluation.json"));
  };
  refused_as("renamed", [](fedglioma::data::Case&) {}, "both use the file");
  refused_as("aliased", [&](fedglioma::data::Case& c) { c.aliases = {trained_id}; }, "same patient");
  refused_as("copied", [&](fedglioma::data::Case& c) {
    for (std::size_t m = 0; m < 4; ++m) {
      const fs::path copy = dir / ("copy-" + std::to_string(m) + ".nii.gz");
      fs::copy_file(c.images[m], copy, fs::copy_options::overwrite_existing);
      c.images[m] = copy;
    }
  }, "identical contents");

  // Another run's model.pt of the same architecture (another seed): refused before any case is read.
  const fs::path stranger = tiny_run("evaluate-strict-stranger", {"data.manifest=" + cohort.string(), "runtime.seed=8"});
  fs::copy_file(run / "model.pt", dir / "own-model.pt");
  fs::copy_file(stranger / "model.pt", run / "model.pt", fs::copy_options::overwrite_existing);
  fedglioma::experiments::EvaluateOptions options;
  options.run_dir = run;
  options.out = dir / "out-stranger";
  std::ostringstream console;
  REQUIRE_THROWS_WITH(fedglioma::experiments::run_evaluate(options, console), Catch::Contains("is not this run's model"));
  REQUIRE_THAT(console.str(), !Catch::Contains("case(s) preprocessed"));
  fs::copy_file(dir / "own-model.pt", run / "model.pt", fs::copy_options::overwrite_existing);
  fs::remove(run / "model.pt");
  REQUIRE_THROWS_WITH(fedglioma::experiments::run_evaluate(options, console), Catch::Contains("model.pt' does not exist"));
  REQUIRE_THAT(console.str(), !Catch::Contains("case(s) preprocessed"));
  fs::copy_file(dir / "own-model.pt", run / "model.pt");

  // The run's own cases edited since training: refused, or evaluated and flagged when asked.
  fs::copy_file(manifest.cases[1].images[0], trained->images[0], fs::copy_options::overwrite_existing);
  REQUIRE_THROWS_WITH(evaluate(run, {}, "", dir / "out-edited"), Catch::Contains("differ from those the run's models were trained on"));
  options.out = dir / "out-edited-allowed";
  options.allow_changed_data = true;
  const fs::path out = fedglioma::experiments::run_evaluate(options, console);
  REQUIRE(json::parse(fedglioma::read_file(out / "evaluation.json"))["data_changed"] == true);
}

TEST_CASE("every evaluation gets a folder of its own and none is ever replaced", "[experiments][evaluate]") {
  const fs::path run = tiny_run("evaluate-folders", {});
  // Two cohorts whose manifests share a name, and one named like the run's own evaluation.
  const fs::path a = fedglioma::testing::synthetic_cohort("evaluate-folders-a", 3, 21);
  const fs::path b = fedglioma::testing::synthetic_cohort("evaluate-folders-b", 3, 22);
  REQUIRE(a.filename() == b.filename());
  const fs::path own_named = a.parent_path() / "own.json";
  fs::copy_file(a, own_named);
  const fs::path out_a = evaluate(run, a, "external"), out_b = evaluate(run, b, "external");
  const fs::path out_own_named = evaluate(run, own_named, "external"), out_own = evaluate(run);
  REQUIRE(std::set<fs::path>{out_a, out_b, out_own_named, out_own}.size() == 4);
  REQUIRE(json::parse(fedglioma::read_file(out_a / "evaluation.json"))["cases"] == a.string());
  REQUIRE(json::parse(fedglioma::read_file(out_b / "evaluation.json"))["cases"] == b.string());
  const std::string before = fedglioma::read_file(out_a / "evaluation.json");
  REQUIRE_THROWS_WITH(evaluate(run, a, "external"), Catch::Contains("already holds the evaluation of " + a.string()) &&
                                                        Catch::Contains("never replaces"));
  REQUIRE_THROWS_WITH(evaluate(run, b, "external", out_a), Catch::Contains("already holds"));
  REQUIRE(fedglioma::read_file(out_a / "evaluation.json") == before);
}

TEST_CASE("evaluate on a multi-site cohort breaks the cases down by site and warns where n is too small",
          "[experiments][evaluate]") {
  const fs::path run = tiny_run("evaluate-by-site", {});
  // The other cohort's four external cases, as two hospitals of two.
  const fs::path cohort = fedglioma::testing::synthetic_cohort("evaluate-by-site-cohort", 3, 98).parent_path();
  json manifest = json::parse(fedglioma::read_file(cohort / "manifest.json"));
  json kept = json::array();
  for (json c : manifest["cases"])
    if (c["split"] == "external") {
      c["site"] = kept.size() % 2 ? "hospital-y" : "hospital-x";
      kept.push_back(c);
    }
  manifest["cases"] = kept;
  fedglioma::write_file_atomic(cohort / "two-sites.json", manifest.dump());
  fedglioma::experiments::EvaluateOptions options;
  options.run_dir = run;
  options.cases = cohort / "two-sites.json";
  std::ostringstream console;
  const fs::path out = fedglioma::experiments::run_evaluate(options, console);
  const json evaluation = json::parse(fedglioma::read_file(out / "evaluation.json"));
  REQUIRE(evaluation["eval"]["external"]["n"] == 4);
  const json& sites = evaluation["external_sites"];
  REQUIRE(sites.size() == 2);
  REQUIRE(sites["hospital-x"]["n"] == 2);
  REQUIRE(sites["hospital-y"]["n"] == 2);
  // Two cases per site: each AUC interval is null with the reason, never [0, 0].
  for (const auto& [site, block] : sites.items())
    for (const auto& [marker, ci] : block["auc_ci"].items()) {
      REQUIRE(ci["delong"].is_null());
      REQUIRE(ci["bootstrap"].is_null());
      REQUIRE_THAT(ci["reason"].get<std::string>(), Catch::Contains("an AUC interval needs at least 2 of each"));
    }
  REQUIRE_THAT(console.str(), Catch::Contains("site hospital-x (n=2)") && Catch::Contains("site hospital-y (n=2)"));
  REQUIRE_THAT(console.str(), Catch::Contains("warning: site hospital-x (n=2):") &&
                                 Catch::Contains("without an interval"));
}
