#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include "core/atomic_file.h"
#include "core/error.h"
#include "experiments/cli_run.h"
#include "data/manifest.h"
#include "experiments/config_json.h"
#include "experiments/config_schema.h"
#include "tests/support/fixtures.h"

namespace fs = std::filesystem;
using Catch::Contains;
using fedglioma::experiments::parse_config;

TEST_CASE("an empty config resolves to the documented defaults", "[experiments][config]") {
  const auto loaded = parse_config("{}", {}, "test");
  REQUIRE(loaded.config.model.depth == 4);
  REQUIRE(loaded.config.train.optimizer == "adam");
  REQUIRE(loaded.config.runtime.workers == 2);
  REQUIRE(loaded.resolved_json.find("\"threads_per_worker\": 1") != std::string::npos);
}

TEST_CASE("unknown config keys are errors naming the key", "[experiments][config]") {
  REQUIRE_THROWS_WITH(parse_config(R"({"train": {"lrate": 0.1}})", {}, "cfg.json"),
                      Contains("cfg.json") && Contains("unknown config key 'train.lrate'"));
  REQUIRE_THROWS_WITH(parse_config(R"({"trian": {}})", {}, "x"), Contains("'trian'"));
  REQUIRE_THROWS_WITH(parse_config("{}", {"runtime.wrokers=2"}, "x"), Contains("runtime.wrokers"));
  REQUIRE_THROWS_WITH(parse_config(R"({"federation": {"strategy": {"name": "fedavg", "mu": 1}}})", {}, "x"),
                      Contains("federation.strategy.mu"));
}

TEST_CASE("label_aware is a true/false switch, and only of the mean-based strategies", "[experiments][config]") {
  const auto on = parse_config(R"({"federation": {"strategy": {"name": "fedadam", "label_aware": true}}})", {}, "x");
  REQUIRE(on.config.federation.strategy.flag("label_aware"));
  REQUIRE(on.resolved_json.find("\"label_aware\": true") != std::string::npos);
  REQUIRE_FALSE(parse_config(R"({"federation": {"strategy": "fedavg"}})", {}, "x").config.federation.strategy.flag("label_aware"));
  REQUIRE_THROWS_WITH(parse_config(R"({"federation": {"strategy": {"name": "fedavg", "label_aware": 1}}})", {}, "x"),
                      Contains("federation.strategy.label_aware") && Contains("true or false"));
  REQUIRE_THROWS_WITH(parse_config(R"({"federation": {"strategy": {"name": "krum", "label_aware": true}}})", {}, "x"),
                      Contains("federation.strategy.label_aware"));
}

TEST_CASE("bad values are errors naming the key and what was expected", "[experiments][config]") {
  REQUIRE_THROWS_WITH(parse_config(R"({"train": {"lr": -1}})", {}, "x"), Contains("train.lr") && Contains("range"));
  REQUIRE_THROWS_WITH(parse_config(R"({"train": {"optimizer": "adagrad"}})", {}, "x"),
                      Contains("train.optimizer") && Contains("adam"));
  REQUIRE_THROWS_WITH(parse_config(R"({"runtime": {"workers": "two"}})", {}, "x"),
                      Contains("runtime.workers") && Contains("integer"));
  REQUIRE_THROWS_WITH(parse_config(R"({"data": {"size": [30, 32, 32]}})", {}, "x"),
                      Contains("data.size") && Contains("divisible"));
  REQUIRE_THROWS_WITH(parse_config(R"({"data": 3})", {}, "x"), Contains("data") && Contains("object"));
  REQUIRE_THROWS_WITH(parse_config("{", {}, "x.json"), Contains("x.json") && Contains("JSON"));
  REQUIRE_THROWS_WITH(parse_config("{}", {"novalue"}, "x"), Contains("key.path=value"));
  REQUIRE_THROWS_WITH(parse_config(R"({"model": {"grade_classes": 4}})", {}, "x"),
                      Contains("model.grade_classes") && Contains("range"));
  REQUIRE_THROWS_WITH(parse_config(R"({"model": {"dropout": 1}})", {}, "x"), Contains("model.dropout"));
  REQUIRE_THROWS_WITH(parse_config(R"({"train": {"mixed_precision": "fp16"}})", {}, "x"),
                      Contains("train.mixed_precision"));
}

TEST_CASE("config overrides (--set) reach any field and parse JSON values", "[experiments][config]") {
  const auto loaded = parse_config(R"({"train": {"lr": 0.1}})",
                                   {"train.lr=0.5", "data.size=[16,16,32]", "runtime.devices=cpu", "model.depth=3"},
                                   "x");
  REQUIRE(loaded.config.train.lr == 0.5);
  REQUIRE(loaded.config.data.size[2] == 32);
  REQUIRE(loaded.config.runtime.devices == "cpu");
  REQUIRE(loaded.config.model.depth == 3);
}

TEST_CASE("fedglioma run with an unknown key exits non-zero naming it and writes nothing", "[experiments][cli]") {
  const fs::path dir = fedglioma::testing::temp_dir("cli-unknown");
  fedglioma::write_file_atomic(dir / "bad.json", R"({"federation": {"roundz": 3}})");
  std::string output;
  const int status = fedglioma::testing::run_command(
      std::string(FEDGLIOMA_BINARY) + " run " + (dir / "bad.json").string() + " --out " + (dir / "run").string(),
      &output);
  REQUIRE(status == 1);
  REQUIRE_THAT(output, Contains("federation.roundz"));
  REQUIRE_FALSE(fs::exists(dir / "run"));
}

TEST_CASE("fedglioma run with a missing manifest exits non-zero naming the file", "[experiments][cli]") {
  const fs::path dir = fedglioma::testing::temp_dir("cli-manifest");
  fedglioma::write_file_atomic(dir / "c.json", R"({"data": {"manifest": "/no/such/manifest.json"}})");
  std::string output;
  const int status =
      fedglioma::testing::run_command(std::string(FEDGLIOMA_BINARY) + " run " + (dir / "c.json").string(), &output);
  REQUIRE(status == 1);
  REQUIRE_THAT(output, Contains("/no/such/manifest.json"));
}

TEST_CASE("a data error before the first round leaves no run folder", "[experiments][cli]") {
  const fs::path dir = fedglioma::testing::temp_dir("cli-data");
  // A copy of the tiny manifest whose last case points at a FLAIR file that does not exist.
  auto manifest = fedglioma::data::load_manifest(fedglioma::testing::tiny_cohort());
  manifest.cases.back().images[3] = dir / "missing-flair.nii.gz";
  fedglioma::data::save_manifest(manifest, dir / "manifest.json");
  const auto options =
      fedglioma::testing::tiny_run_options(dir, {"data.manifest=" + (dir / "manifest.json").string()});
  std::ostringstream console;
  REQUIRE_THROWS_WITH(fedglioma::experiments::run_run(options, console), Contains("missing-flair.nii.gz"));
  REQUIRE_FALSE(fs::exists(dir / "run"));
}

TEST_CASE("fedglioma answers its version and help flags", "[experiments][cli]") {
  std::string output;
  REQUIRE(fedglioma::testing::run_command(std::string(FEDGLIOMA_BINARY) + " --version", &output) == 0);
  REQUIRE_THAT(output, Contains("fedglioma"));
  REQUIRE(fedglioma::testing::run_command(std::string(FEDGLIOMA_BINARY) + " --help", &output) == 0);
  REQUIRE_THAT(output, Contains("synth") && Contains("run"));
}

TEST_CASE("every experiment config that ships parses and every sweep names a base that does",
          "[experiments][config]") {
  const fs::path dir = fs::path(FEDGLIOMA_SOURCE_DIR) / "experiments" / "configs";
  std::size_t configs = 0, sweeps = 0;
  for (const auto& entry : fs::directory_iterator(dir)) {
    const auto text = fedglioma::read_file(entry.path());
    INFO(entry.path().string());
    if (text.find("\"grid\"") != std::string::npos) {  // a sweep file: its base must parse
      const auto sweep = nlohmann::json::parse(text);
      REQUIRE_NOTHROW(fedglioma::experiments::load_config(dir / sweep["base"].get<std::string>(), {}));
      ++sweeps;
    } else {
      REQUIRE_NOTHROW(fedglioma::experiments::load_config(entry.path(), {}));
      ++configs;
    }
  }
  REQUIRE(configs >= 2);  // smoke, paper_reproduction
  REQUIRE(sweeps >= 2);
}

TEST_CASE("a config, manifest or sweep with a repeated key or bytes after the document is refused",
          "[experiments][config][bad-input]") {
  // nlohmann::json keeps the last of two equal keys without a word: the first value would be lost.
  REQUIRE_THROWS_WITH(parse_config(R"({"train": {"lr": 0.1, "lr": 0.001}})", {}, "c.json"),
                      Contains("c.json") && Contains("key \"lr\" appears twice"));
  REQUIRE_THROWS_WITH(parse_config(R"({"runtime": {"seed": 1}, "runtime": {"seed": 2}})", {}, "c.json"),
                      Contains("key \"runtime\" appears twice"));
  REQUIRE_THROWS_WITH(parse_config(R"({"train": {"lr": 0.1}} {"extra": 1})", {}, "c.json"),
                      Contains("c.json") && Contains("not valid JSON"));
  // Equal keys in different objects are fine.
  REQUIRE_NOTHROW(parse_config(R"({"train": {"loss_weights": {"mask": 1}}, "eval": {"every": 1}})", {}, "c.json"));

  const fs::path dir = fedglioma::testing::temp_dir("json-duplicates");
  fedglioma::write_file_atomic(dir / "manifest.json", R"({"version": 1, "version": 1, "cases": []})");
  REQUIRE_THROWS_WITH(fedglioma::data::load_manifest(dir / "manifest.json"),
                      Contains("manifest.json") && Contains("key \"version\" appears twice"));
}

TEST_CASE("command-line mistakes are one line with exit status 2, and --set errors name the --set",
          "[experiments][config][cli]") {
  const std::string bin = FEDGLIOMA_BINARY;
  const std::string config = std::string(FEDGLIOMA_SOURCE_DIR) + "/experiments/configs/smoke.json";
  const std::string out = fedglioma::testing::temp_dir("cli-usage").string() + "/run";
  struct Case {
    std::string args;
    int status;
    std::string says;
  };
  const std::vector<Case> cases = {
      {"frobnicate", 2, "unknown subcommand 'frobnicate' (expected one of: synth, manifest, preprocess, export-nnunet, run, sweep, predict, export-model, evaluate, report, launch, strategies, config-reference)"},
      {"", 2, "give a subcommand"},
      {"run --bogus", 2, "--bogus"},
      {"run " + config + " --out " + out + " --set train.lr=abc", 1, "error: --set train.lr=abc: train.lr: expected a number"},
      {"run " + config + " --out " + out + " --set train.lrx=1", 1, "error: --set train.lrx=1: unknown config key 'train.lrx'"},
  };
  for (const Case& c : cases) {
    std::string output;
    INFO(c.args);
    REQUIRE(fedglioma::testing::run_command(bin + " " + c.args, &output) == c.status);
    INFO(output);
    REQUIRE(std::count(output.begin(), output.end(), '\n') == 1);
    REQUIRE_THAT(output, Catch::Contains(c.says));
  }
}

TEST_CASE("a config error blames the --set that names its key, and prints the value as written", "[experiments][config]") {
  // The file's error is the file's, although a --set's key is a prefix of the key named.
  REQUIRE_THROWS_WITH(parse_config(R"({"train": {"lr_schedule": "bogus"}})", {"train.lr=0.1"}, "'c.json'"),
                      Catch::StartsWith("'c.json': train.lr_schedule: 'bogus'"));
  REQUIRE_THROWS_WITH(parse_config("{}", {"train.lr=0.1", "train.lr_schedule=bogus"}, "'c.json'"),
                      Catch::StartsWith("--set train.lr_schedule=bogus: "));
  REQUIRE_THROWS_WITH(parse_config("{}", {"federation.strategy={\"name\": \"fedprox\", \"mu\": -1}"}, "'c.json'"),
                      Catch::StartsWith("--set federation.strategy="));
  // Integers beyond int64 are out of range as written, not negative numbers.
  REQUIRE_THROWS_WITH(parse_config("{}", {"runtime.seed=18446744073709551615"}, "x"),
                      Catch::Contains("runtime.seed: 18446744073709551615 is out of range"));
  REQUIRE_THROWS_WITH(parse_config("{}", {"federation.rounds=9223372036854775808"}, "x"),
                      Catch::Contains("federation.rounds: 9223372036854775808 is out of range"));
}

TEST_CASE("federation.dropout 1 is refused at start: no round could train", "[experiments][config]") {
  REQUIRE_THROWS_WITH(parse_config("{}", {"federation.dropout=1"}, "x"),
                      Catch::Contains("federation.dropout: 1 drops every client of every round"));
  REQUIRE(parse_config("{}", {"federation.dropout=0.99"}, "x").config.federation.dropout == 0.99);
}

TEST_CASE("a NUL in a config string is refused naming the key, never cut", "[experiments][config][bad-input]") {
  REQUIRE_THROWS_WITH(parse_config(R"({"data": {"manifest": "cohort\u0000/other.json"}})", {}, "'c.json'"),
                      Catch::Contains("'c.json': data.manifest: holds a NUL character"));
  REQUIRE_THROWS_WITH(parse_config("{}", {"data.cache_dir=\"a\\u0000b\""}, "x"),
                      Catch::Contains("--set data.cache_dir=") && Catch::Contains("data.cache_dir: holds a NUL"));
}

TEST_CASE("every config key is declared once: a wrong value is refused naming it, and docs/config.md documents it",
          "[experiments][config][docs]") {
  const auto& schema = fedglioma::experiments::config_schema();
  REQUIRE(schema.size() > 60);
  for (const auto& field : schema) {
    INFO(field.key);
    REQUIRE_THROWS_WITH(parse_config("{}", {field.key + "=[[]]"}, "x"), Contains(field.key));
  }
  // The resolved config holds exactly the declared keys (a strategy its own parameters).
  const auto resolved = nlohmann::json::parse(parse_config("{}", {}, "x").resolved_json);
  REQUIRE(resolved["train"].contains("loss_weights"));
  REQUIRE_FALSE(resolved["train"].contains("rounds"));  // federation.rounds is the one round count
  const std::string readme = fedglioma::read_file(std::string(FEDGLIOMA_SOURCE_DIR) + "/docs/config.md");
  INFO("docs/config.md's generated reference differs from the schema's: run scripts/update_docs.sh");
  const std::string begin = "<!-- config:begin (fedglioma config-reference) -->\n", end = "<!-- config:end -->";
  const auto a = readme.find(begin), b = readme.find(end);
  REQUIRE(a != std::string::npos);
  REQUIRE(b != std::string::npos);
  REQUIRE(readme.substr(a + begin.size(), b - a - begin.size()) == fedglioma::experiments::config_reference_markdown());
}

TEST_CASE("a config's relative paths are relative to its file, --set ones to the working directory",
          "[experiments][config]") {
  namespace fs = std::filesystem;
  const fs::path dir = fedglioma::testing::temp_dir("config-paths");
  fs::create_directories(dir / "configs");
  fedglioma::write_file_atomic(dir / "configs" / "c.json",
                               R"({"data": {"manifest": "../cohort/manifest.json", "cache_dir": "cache"}})");
  // Read from whatever the working directory is: the file's folder anchors its paths.
  const auto loaded = fedglioma::experiments::load_config(dir / "configs" / "c.json", {});
  REQUIRE(loaded.config.data.manifest == (dir / "cohort" / "manifest.json").string());
  REQUIRE(loaded.config.data.cache_dir == (dir / "configs" / "cache").string());
  REQUIRE_THAT(loaded.resolved_json, Catch::Contains((dir / "cohort" / "manifest.json").string()));
  // --set: the working directory's; absolute paths stay as they are.
  const auto set = fedglioma::experiments::load_config(dir / "configs" / "c.json", {"data.manifest=m.json",
                                                                                    "data.cache_dir=/tmp/x/../y"});
  REQUIRE(set.config.data.manifest == (fs::current_path() / "m.json").string());
  REQUIRE(set.config.data.cache_dir == "/tmp/y");
  // An empty cache_dir (no cache) stays empty.
  REQUIRE(fedglioma::experiments::load_config(dir / "configs" / "c.json", {"data.cache_dir="}).config.data.cache_dir.empty());
}
