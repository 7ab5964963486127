#pragma once

#include <filesystem>
#include <ostream>
#include <string>
#include <vector>

#include "experiments/config_json.h"

namespace CLI {
class App;
}

namespace fedglioma::experiments {

/// Flags of `fedglioma run`.
struct RunOptions {
  std::filesystem::path config;
  std::filesystem::path out;           ///< empty: runs/<config name>-<UTC time>
  std::vector<std::string> overrides;  ///< --set key.path=value
  std::filesystem::path resume;        ///< --resume RUN_DIR: continue that run after its checkpoint
  bool force = false;  ///< --force: write into an existing non-empty folder that holds none of a run's files
};

/// `fedglioma run`: registers the subcommand and its flags, bound to `options`.
CLI::App* setup_run(CLI::App& app, RunOptions& options);

/// The config `run` with `options` runs under, checked as run checks it: a config file and its
/// --set, or with --resume (and neither of those) the folder's config.resolved.json, once its
/// partitions.json and rounds.jsonl are there. Throws ConfigError naming what is missing; the one
/// check of a run command, which `launch` makes too before it starts any rank.
LoadedConfig load_run_config(const RunOptions& options);

/// Runs the experiment; returns the run folder. The config, the manifest and the output folder
/// are checked before anything is written; the folder must be new, empty, a run folder (it
/// carries .fedglioma-run) or, with --force, hold none of a run's files; it is locked while the
/// run lasts. A run that fails before its first round leaves the folder as it found it. Throws fedglioma::Error subclasses for unusable input.
std::filesystem::path run_run(const RunOptions& options, std::ostream& console);

}  // namespace fedglioma::experiments
