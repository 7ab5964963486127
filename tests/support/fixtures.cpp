#include "tests/support/fixtures.h"

#include <catch2/catch.hpp>
#include <torch/utils.h>

#include <algorithm>
#include <atomic>
#include <iostream>
#include <fstream>
#include <sstream>
#include <cstdio>
#include <mutex>
#include <stdexcept>

#include <unistd.h>

#include "core/atomic_file.h"
#include "core/numerics.h"
#include "core/remove_tree.h"
#include "data/synth.h"

namespace fedglioma::testing {

namespace fs = std::filesystem;

fs::path temp_dir(const std::string& name) {
  static std::atomic<int> counter{0};
  const fs::path dir = fs::temp_directory_path() /
                       ("fedglioma-test-" + std::to_string(::getpid()) + "-" + std::to_string(counter++) + "-" + name);
  remove_tree(dir);
  fs::create_directories(dir);
  return dir;
}

fs::path synthetic_cohort(const std::string& name, int cases_per_site, std::uint64_t seed) {
  data::SynthOptions options;
  options.out = temp_dir(name);
  options.sites = 2;
  options.cases_per_site = cases_per_site;
  options.external_cases = 4;
  options.size = 16;
  options.seed = seed;
  return data::write_synthetic_cohort(options);
}

fs::path tiny_cohort() {
  static std::once_flag once;
  static fs::path manifest;
  std::call_once(once, [] { manifest = synthetic_cohort("tiny-cohort", 6, 7); });
  return manifest;
}

fs::path cache_dir() {
  static const fs::path dir = temp_dir("cache");
  return dir;
}

models::ModelConfig tiny_model() {
  models::ModelConfig model;
  model.depth = 2;
  model.base_channels = 4;
  model.head_hidden = 8;
  return model;
}

std::string tiny_config_json() {
  return R"({
    "data": {"manifest": ")" + tiny_cohort().string() + R"(", "size": [16, 16, 16], "spacing": 12,
             "cache_dir": ")" + cache_dir().string() + R"("},
    "partition": {"val_fraction": 0.34},
    "model": {"depth": 2, "base_channels": 4, "head_hidden": 8},
    "train": {"local_epochs": 1, "batch_size": 2, "lr": 0.003},
    "federation": {"rounds": 2},
    "runtime": {"devices": "cpu", "workers": 1, "threads_per_worker": 1, "seed": 3}
  })";
}

experiments::RunOptions tiny_run_options(const fs::path& dir, std::vector<std::string> overrides) {
  write_file_atomic(dir / "tiny.json", tiny_config_json());
  experiments::RunOptions options;
  options.config = dir / "tiny.json";
  options.out = dir / "run";
  options.overrides = std::move(overrides);
  return options;
}

fs::path tiny_run(const std::string& name, const std::vector<std::string>& overrides) {
  std::ostringstream console;
  return experiments::run_run(tiny_run_options(temp_dir(name), overrides), console);
}

experiments::RunOptions run_and_kill(const fs::path& dir, const std::vector<std::string>& overrides, int rounds) {
  const auto options = tiny_run_options(dir, overrides);
  std::string command = std::string(FEDGLIOMA_BINARY) + " run '" + options.config.string() + "' --out '" +
                        options.out.string() + "'";
  for (const auto& o : overrides) command += " --set " + o;
  const std::string log = options.out.string() + "/rounds.jsonl";
  std::string output;
  const int status = run_command("(" + command + " >/dev/null 2>&1 & pid=$!; "
                                 "while [ \"$(cat '" + log + "' 2>/dev/null | wc -l)\" -lt " + std::to_string(rounds) +
                                 " ]; do sleep 0.02; done; kill -9 $pid; wait $pid; true)",
                                 &output);
  if (status != 0) throw std::runtime_error("run_and_kill: " + output);
  return options;
}

std::vector<nlohmann::json> read_rounds(const fs::path& run) {
  std::vector<nlohmann::json> rounds;
  std::ifstream in(run / "rounds.jsonl");
  for (std::string line; std::getline(in, line);) rounds.push_back(nlohmann::json::parse(line));
  return rounds;
}

nlohmann::json metrics_of(nlohmann::json round) {
  round.erase("seconds");
  for (auto& c : round["clients"]) {
    c.erase("io_wait_seconds");
    c.erase("train_seconds");
  }
  return round;
}

namespace {
std::atomic<bool> skipped{false};
}  // namespace

bool skip(const std::string& reason) {
  const std::string name = Catch::getResultCapture().getCurrentTestName();
  bool tagged = false;
  for (const Catch::TestCase& tc : Catch::getRegistryHub().getTestCaseRegistry().getAllTests())
    if (tc.name == name) tagged = std::count(tc.tags.begin(), tc.tags.end(), kMaySkipTag) > 0;
  if (!tagged) FAIL("'" << name << "' skips (" << reason << ") but has no [" << kMaySkipTag << "] tag");
  skipped = true;
  std::cout << "fedglioma-test-skip: " << name << ": " << reason << std::endl;
  WARN("skipped: " << reason);
  return true;
}

bool any_test_skipped() { return skipped; }

void seed_torch(std::uint64_t seed) { torch::manual_seed(seed); }

bool ran_in_native_child(const std::string& test_name) {
  if (process_cpu_numerics() == "native") return false;
  if (!cpu_has_avx512()) {
    return skip("this CPU has no AVX-512, so oneDNN has no bfloat16 convolutions");
  }
  std::string output;
  std::string spec;  // Catch's test spec: commas and brackets escaped, the whole name quoted for the shell
  for (const char c : test_name) {
    if (c == ',' || c == '[' || c == ']' || c == '\\') spec += '\\';
    if (c == '"' || c == '$' || c == '`') spec += '\\';
    spec += c;
  }
  const fs::path self = fs::read_symlink("/proc/self/exe");
  const int rc = run_command("FEDGLIOMA_CPU_NUMERICS=native " + self.string() + " --warn NoTests \"" + spec + "\"", &output);
  INFO("native child:\n" << output);
  REQUIRE(rc == 0);
  REQUIRE(output.find("All tests passed") != std::string::npos);
  return true;
}

fs::path shared_data_dir() {
  const fs::path dir = FEDGLIOMA_SHARED_DATA;
  return fs::is_directory(dir) ? fs::canonical(dir) : fs::path();
}

int run_command(const std::string& command, std::string* output) {
  std::string text;
  FILE* pipe = ::popen((command + " 2>&1").c_str(), "r");
  if (!pipe) return -1;
  char buf[4096];
  while (std::fgets(buf, sizeof buf, pipe)) text += buf;
  const int status = ::pclose(pipe);
  if (output) *output = text;
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

}  // namespace fedglioma::testing
