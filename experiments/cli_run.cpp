#include "experiments/cli_run.h"

#include <CLI/CLI.hpp>

#include <ctime>
#include <iostream>

#include <unistd.h>

#include "core/atomic_file.h"
#include "core/error.h"
#include "core/numerics.h"
#include "core/owned_folder.h"
#include "core/remove_tree.h"
#include "data/manifest.h"
#include "experiments/config_json.h"
#include "sim/experiment.h"

namespace fedglioma::experiments {
namespace {

namespace fs = std::filesystem;

fs::path default_run_dir(const fs::path& config) {
  const std::time_t now = std::time(nullptr);
  char stamp[32];
  std::strftime(stamp, sizeof stamp, "%Y%m%d-%H%M%S", std::gmtime(&now));
  return fs::path("runs") / (config.stem().string() + "-" + stamp);
}

// What a run writes into its folder (OwnedFolder never lets --force overwrite any of these).
const OwnedFolder::Kind kRunFolder{"run",
                                   "--force",
                                   {"config.resolved.json", "partitions.json", "rounds.jsonl", "metrics.csv",
                                    "predictions.csv", "summary.json", "checkpoints", "client_state", "model.pt", "model-*"}};

// The progress line redraws itself with carriage returns: only for a terminal, never in a log.
bool progress_wanted(const std::ostream& console) { return &console == &std::cout && ::isatty(STDOUT_FILENO); }

}  // namespace

CLI::App* setup_run(CLI::App& app, RunOptions& options) {
  CLI::App* cmd = app.add_subcommand("run", "Run one federated experiment from a JSON config into a run folder");
  cmd->add_option("config", options.config, "Experiment config (JSON); not with --resume");
  cmd->add_option("--out", options.out, "Run folder (default: runs/<config name>-<UTC time>)");
  cmd->add_option("--set", options.overrides, "Override a config field: key.path=value (repeatable)");
  cmd->add_option("--resume", options.resume,
                  "Continue the run in this folder after its last checkpoint, with its own config");
  cmd->add_flag("--force", options.force,
                "Write into an existing folder that is not a run folder (refused if it holds any file a run writes)");
  return cmd;
}

fs::path resume_run(const RunOptions& options, std::ostream& console) {
  if (!options.config.empty() || !options.overrides.empty())
    throw ConfigError("run --resume takes no config and no --set: a resumed run keeps the config it started with");
  const fs::path& run_dir = options.resume;
  for (const char* file : {"config.resolved.json", "partitions.json", "rounds.jsonl"})
    if (!fs::exists(run_dir / file))
      throw ConfigError("'" + run_dir.string() + "' cannot be resumed: it has no " + file);
  const OwnedFolder folder = OwnedFolder::reopen(run_dir, kRunFolder, {"config.resolved.json", "rounds.jsonl"});
  const LoadedConfig loaded = load_config(run_dir / "config.resolved.json", {});
  require_cpu_numerics(loaded.config.runtime.cpu_numerics);
  const data::Manifest manifest = data::load_manifest(loaded.config.data.manifest);
  sim::run_experiment(loaded.config, manifest, run_dir, console, {/*resume=*/true, progress_wanted(console), loaded.resolved_json});
  console << "run folder: " << run_dir.string() << "\n";
  return run_dir;
}

fs::path run_run(const RunOptions& options, std::ostream& console) {
  if (!options.resume.empty()) return resume_run(options, console);
  if (options.config.empty()) throw ConfigError("run: give a config (JSON) or --resume RUN_DIR");
  const LoadedConfig loaded = load_config(options.config, options.overrides);
  require_cpu_numerics(loaded.config.runtime.cpu_numerics);  // before anything is written
  const data::Manifest manifest = data::load_manifest(loaded.config.data.manifest);
  const fs::path run_dir = options.out.empty() ? default_run_dir(options.config) : options.out;
  if (fs::exists(run_dir / "rounds.jsonl"))
    throw ConfigError("'" + run_dir.string() + "' already holds a run; choose another --out");
  OwnedFolder folder = OwnedFolder::claim(run_dir, kRunFolder, options.force);
  try {
    write_file_atomic(run_dir / "config.resolved.json", loaded.resolved_json);
    sim::run_experiment(loaded.config, manifest, run_dir, console, {/*resume=*/false, progress_wanted(console), loaded.resolved_json});
  } catch (...) {
    // A run that never finished a round leaves nothing behind that could pass for a result, and
    // a folder it did not create as it found it (claim() made sure these files were not there).
    std::error_code ec;
    if (!fs::exists(run_dir / "rounds.jsonl")) {
      if (folder.created()) {
        remove_tree(run_dir, ec);
      } else {
        fs::remove(run_dir / "config.resolved.json", ec);
        fs::remove(run_dir / "partitions.json", ec);
        folder.unmark(kRunFolder);
      }
    }
    throw;
  }
  console << "run folder: " << run_dir.string() << "\n";
  return run_dir;
}

}  // namespace fedglioma::experiments
