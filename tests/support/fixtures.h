#pragma once

#include <filesystem>
#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "experiments/cli_run.h"
#include "models/model_config.h"

namespace fedglioma::testing {

/// A fresh, empty folder under the system temp folder, unique to this call.
std::filesystem::path temp_dir(const std::string& name);

/// A fresh synthetic cohort of its own (2 sites x `cases_per_site` cases + 4 external cases, 16^3
/// voxels) for a test that changes or needs other files than tiny_cohort's. Returns its manifest.
std::filesystem::path synthetic_cohort(const std::string& name, int cases_per_site, std::uint64_t seed);

/// A tiny synthetic cohort (2 sites x 6 cases + 4 external cases, 16^3 voxels, seed 7), written
/// once per test process and shared by the tests that only read it. Returns its manifest path.
std::filesystem::path tiny_cohort();

/// A preprocessing cache folder shared by this test process's runs.
std::filesystem::path cache_dir();

/// A tiny experiment config (16^3, depth 2, 2 rounds) over tiny_cohort(), as JSON text.
std::string tiny_config_json();

/// The tiny config's `model` section (depth 2, base 4, head 8), for tests that build a model.
models::ModelConfig tiny_model();

/// Options of `fedglioma run` for the tiny config written to `dir`/tiny.json, into `dir`/run.
experiments::RunOptions tiny_run_options(const std::filesystem::path& dir, std::vector<std::string> overrides = {});

/// Runs the tiny config with `overrides` (--set key=value) into a fresh folder; returns the run folder.
std::filesystem::path tiny_run(const std::string& name, const std::vector<std::string>& overrides);

/// Starts `fedglioma run` of the tiny config with `overrides` into `dir`/run as a child process,
/// waits until rounds.jsonl holds `rounds` lines and kills it with SIGKILL: a run interrupted
/// without warning, for resume tests. Returns the run's options (run.out is the folder).
experiments::RunOptions run_and_kill(const std::filesystem::path& dir, const std::vector<std::string>& overrides,
                                     int rounds);

/// The lines of `run`/rounds.jsonl, parsed.
std::vector<nlohmann::json> read_rounds(const std::filesystem::path& run);

/// A rounds.jsonl line without its wall-clock times: what determinism promises to repeat.
nlohmann::json metrics_of(nlohmann::json round);

/// The tag of every test case that can skip (tests/main.cpp gives each such case a ctest test of
/// its own, so that ctest reports it as skipped rather than passed).
inline constexpr const char* kMaySkipTag = "may_skip";

/// Marks the running test case as skipped for `reason` (no ../shared/data, no CUDA device, no
/// Gloo, no AVX-512) and returns true, so the caller returns: `if (cond) return skip("why");`.
/// The test binary then exits with ctest's skip code (77) unless a test failed. A test case that
/// calls it without the [may_skip] tag fails, since a grouped run would hide the skip.
bool skip(const std::string& reason);

/// Whether a test case of this process skipped (tests/main.cpp's exit code).
bool any_test_skipped();

/// For a test that needs runtime.cpu_numerics "native" (CPU bfloat16 needs oneDNN's AVX-512
/// kernels, which portable mode rules out). In the (portable) test process: runs the test case
/// named `test_name` again in a child test process in native mode, requires it to pass, and
/// returns true, so the caller returns; where the CPU has no bfloat16 kernels even natively, skips
/// with a warning and returns true. In that child: returns false, and the test runs.
bool ran_in_native_child(const std::string& test_name);

/// Seeds torch's global generator, for tests that build models outside a run.
void seed_torch(std::uint64_t seed = 0);

/// The folder of the real sample data (../shared/data), or empty when it is not present.
std::filesystem::path shared_data_dir();

/// Runs a shell command, returning its exit status and its stdout+stderr.
int run_command(const std::string& command, std::string* output);

}  // namespace fedglioma::testing
