#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include <cstdlib>
#include <fstream>
#include <string>

#include "core/atomic_file.h"
#include "core/numerics.h"
#include "experiments/cli_run.h"
#include "experiments/config_json.h"
#include "tests/support/fixtures.h"

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

// The pinning variables are ours unless the person running the tests set them.
bool user_pinned() {
  const auto report = fedglioma::numerics_report();
  return !report.user_environment.empty();
}

json summary_of(const fs::path& run) {
  std::ifstream in(run / "summary.json");
  return json::parse(in);
}

// `fedglioma run` of the tiny config in a fresh folder, with `environment` before the command.
json binary_run(const std::string& name, const std::string& environment, const std::string& sets, std::string* output) {
  const fs::path dir = fedglioma::testing::temp_dir(name);
  fedglioma::write_file_atomic(dir / "tiny.json", fedglioma::testing::tiny_config_json());
  const int rc =
      fedglioma::testing::run_command(environment + " " + FEDGLIOMA_BINARY + " run " + (dir / "tiny.json").string() +
                                          " --out " + (dir / "run").string() + " " + sets,
                                      output);
  INFO(*output);
  REQUIRE(rc == 0);
  return summary_of(dir / "run");
}

}  // namespace

TEST_CASE("the test process runs with portable CPU numerics: ATen and oneDNN pinned to AVX2", "[core][numerics]") {
  if (!fedglioma::cpu_has_avx2() || user_pinned())
    SUCCEED("no AVX2, or the pins were set by the user");
  else {
    REQUIRE(fedglioma::process_cpu_numerics() == "portable");
    REQUIRE(std::string(std::getenv("ATEN_CPU_CAPABILITY")) == "avx2");
    REQUIRE(std::string(std::getenv("ONEDNN_MAX_CPU_ISA")) == "AVX2");
    REQUIRE(fedglioma::numerics_report().aten_cpu_capability == "avx2");
    REQUIRE(std::string(std::getenv("CUBLAS_WORKSPACE_CONFIG")) != "");
  }
}

TEST_CASE("a config that asks for the other cpu_numerics is refused in-process, before anything is written",
          "[core][numerics]") {
  REQUIRE_THROWS_AS(fedglioma::require_cpu_numerics("native"), fedglioma::RestartRequired);
  const fs::path dir = fedglioma::testing::temp_dir("numerics-native-in-process");
  auto options = fedglioma::testing::tiny_run_options(dir, {"runtime.cpu_numerics=native"});
  std::ostringstream console;
  REQUIRE_THROWS_WITH(fedglioma::experiments::run_run(options, console), Catch::Contains("runtime.cpu_numerics"));
  REQUIRE_FALSE(fs::exists(dir / "run"));
}

TEST_CASE("runtime.cpu_numerics and runtime.deterministic are validated and resolved", "[core][numerics][config]") {
  const std::string text = fedglioma::testing::tiny_config_json();
  const auto loaded = fedglioma::experiments::parse_config(text, {}, "tiny");
  REQUIRE(loaded.config.runtime.cpu_numerics == "portable");
  REQUIRE(loaded.config.runtime.deterministic);
  const json resolved = json::parse(loaded.resolved_json);
  REQUIRE(resolved["runtime"]["cpu_numerics"] == "portable");
  REQUIRE(resolved["runtime"]["deterministic"] == true);
  REQUIRE_THROWS_WITH(fedglioma::experiments::parse_config(text, {"runtime.cpu_numerics=fast"}, "tiny"),
                      Catch::Contains("runtime.cpu_numerics"));
  REQUIRE_THROWS_WITH(fedglioma::experiments::parse_config(text, {"runtime.deterministic=\"yes\""}, "tiny"),
                      Catch::Contains("runtime.deterministic"));
}

TEST_CASE("summary.json says which numerics a run computed with", "[core][numerics][slow]") {
  const fs::path run = fedglioma::testing::tiny_run("numerics-summary", {"runtime.deterministic=false"});
  const json numerics = summary_of(run)["numerics"];
  REQUIRE(numerics["cpu_numerics"] == "portable");
  REQUIRE(numerics["cuda_deterministic"] == false);
  if (fedglioma::cpu_has_avx2() && !user_pinned()) {
    REQUIRE(numerics["aten_cpu_capability"] == "avx2");
    REQUIRE(numerics["onednn_max_cpu_isa"] == "AVX2");
    REQUIRE(numerics["user_environment"].empty());
  }
  const fs::path again = fedglioma::testing::tiny_run("numerics-summary-deterministic", {});
  REQUIRE(summary_of(again)["numerics"]["cuda_deterministic"] == true);
}

TEST_CASE("fedglioma restarts itself for native CPU numerics and drops its own pins", "[core][numerics][slow][may_skip]") {
  if (!fedglioma::cpu_has_avx2()) return (void)fedglioma::testing::skip("this CPU has no AVX2");
  if (user_pinned()) return (void)fedglioma::testing::skip("the environment pins the CPU kernels itself");
  std::string output;
  const json numerics = binary_run("numerics-native", "", "--set runtime.cpu_numerics=native", &output)["numerics"];
  REQUIRE(numerics["cpu_numerics"] == "native");
  REQUIRE(numerics["onednn_max_cpu_isa"] == "");
  REQUIRE(numerics["user_environment"].empty());
}

TEST_CASE("a pinning variable the user set wins over portable mode and is reported", "[core][numerics][slow]") {
  std::string output;
  const json numerics = binary_run("numerics-user", "ATEN_CPU_CAPABILITY=default", "", &output)["numerics"];
  REQUIRE(numerics["cpu_numerics"] == "portable");
  REQUIRE(numerics["aten_cpu_capability"] == "default");
  REQUIRE(numerics["user_environment"] == json::array({"ATEN_CPU_CAPABILITY=default"}));
}
