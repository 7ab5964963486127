#include "experiments/cli_run.h"

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <chrono>
#include <ctime>
#include <memory>
#include <iostream>

#include <unistd.h>

#include "core/atomic_file.h"
#include "core/error.h"
#include "core/hash.h"
#include "core/numerics.h"
#include "core/owned_folder.h"
#include "core/remove_tree.h"
#include "data/manifest.h"
#include "experiments/config_json.h"
#include "sim/run/experiment.h"
#include "sim/processes/processes.h"

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
                                    "predictions.csv", "summary.json", "checkpoints", "client_state", "model.pt", "model-*",
                                    "cross_site.csv", "roc.csv", "calibration.csv", "cases.csv", "report.html",
                                    "selected", "tensorboard"}};

// The progress line redraws itself with carriage returns: only for a terminal, never in a log.
bool progress_wanted(const std::ostream& console) { return &console == &std::cout && ::isatty(STDOUT_FILENO); }

// Where ranks other than 0 print: nowhere (rank 0 prints the run; errors still reach stderr).
std::ostream& quiet() {
  static std::ostream sink(nullptr);
  return sink;
}

// The manifest as every rank sees it without decoding a voxel: each case's id, site, split,
// labels and source files' sizes (the voxels' own fingerprints are the checkpoint's, on resume).
std::string manifest_fingerprint(const data::Manifest& manifest) {
  std::string text;
  for (const data::Case& c : manifest.cases) {
    text += c.id + "\n" + c.site + "\n" + c.split + "\n";
    for (const auto& label : {c.labels.idh, c.labels.codeletion_1p19q, c.labels.mgmt, c.labels.grade})
      text += (label ? std::to_string(*label) : "-") + " ";
    std::vector<fs::path> files(c.images.begin(), c.images.end());
    if (c.mask) files.push_back(*c.mask);
    for (const fs::path& file : files) {
      std::error_code ec;
      text += std::to_string(fs::file_size(file, ec)) + " ";
    }
  }
  return hex64(content_hash(text.data(), text.size()));
}

// Where this rank starts: a new run, or the run folder's checkpoint it resumes from.
std::string start_of(bool resume, const fs::path& run_dir) {
  if (!resume) return "a new run";
  const fs::path checkpoint = run_dir / "checkpoints" / "latest.state";
  if (!fs::exists(checkpoint)) return "a resume with no checkpoint (from round 1)";
  return "a resume from the checkpoint " + hex64(file_content_hash(checkpoint));
}

// What every rank proves at the rendezvous, compared field by field with rank 0's: the build,
// the resolved config, the data, the CPU numerics and where the run starts.
std::string rank_proof(const LoadedConfig& loaded, const data::Manifest& manifest, bool resume, const fs::path& run_dir) {
  const NumericsReport numerics = numerics_report();
  nlohmann::json proof = {
      {"fedglioma", FEDGLIOMA_VERSION},
      {"config", hex64(content_hash(loaded.resolved_json.data(), loaded.resolved_json.size()))},
      {"data", manifest_fingerprint(manifest)},
      {"numerics", {{"cpu_numerics", numerics.cpu_numerics}, {"aten_cpu_capability", numerics.aten_cpu_capability},
                    {"onednn_max_cpu_isa", numerics.onednn_max_cpu_isa}, {"user_environment", numerics.user_environment}}},
      {"start", start_of(resume, run_dir)}};
  return proof.dump();
}

// The run's processes from the launch environment (RANK, WORLD_SIZE, ...), joined before the run
// starts; null for one process. Every rank's proof (rank_proof) must match rank 0's.
std::unique_ptr<sim::Processes> join_run(const LoadedConfig& loaded, const data::Manifest& manifest, const sim::LaunchEnv& env,
                                         bool resume, const fs::path& run_dir) {
  if (env.world == 1) return nullptr;
  const auto timeout = std::chrono::milliseconds(static_cast<long long>(loaded.config.runtime.distributed_timeout_s * 1000));
  return sim::join_processes(env, rank_proof(loaded, manifest, resume, run_dir), timeout);
}

sim::RunControl control_of(bool resume, std::ostream& console, const LoadedConfig& loaded, sim::Processes* processes,
                           int local_rank) {
  sim::RunControl control{resume, progress_wanted(console), loaded.resolved_json};
  control.processes = processes;
  control.local_rank = local_rank;
  return control;
}

// Resumes the run in `run_dir` as this process's rank.
fs::path resume_in(const fs::path& run_dir, const LoadedConfig& loaded, const sim::LaunchEnv& env,
                   std::ostream& console) {
  require_cpu_numerics(loaded.config.runtime.cpu_numerics);
  const data::Manifest manifest = data::load_manifest(loaded.config.data.manifest);
  const auto processes = join_run(loaded, manifest, env, true, run_dir);
  std::ostream& out = env.rank == 0 ? console : quiet();
  sim::run_experiment(loaded.config, manifest, run_dir, out, control_of(true, out, loaded, processes.get(), env.local_rank));
  out << "run folder: " << run_dir.string() << "\n";
  return run_dir;
}

// A rank other than 0 of a new run: it trains its clients and writes nothing in the run folder.
fs::path run_as_peer(const LoadedConfig& loaded, const data::Manifest& manifest, const fs::path& run_dir,
                     const sim::LaunchEnv& env) {
  const auto processes = join_run(loaded, manifest, env, false, run_dir);
  sim::run_experiment(loaded.config, manifest, run_dir, quiet(), control_of(false, quiet(), loaded, processes.get(), env.local_rank));
  return run_dir;
}

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

LoadedConfig load_run_config(const RunOptions& options) {
  if (options.resume.empty()) {
    if (options.config.empty()) throw ConfigError("run: give a config (JSON) or --resume RUN_DIR");
    return load_config(options.config, options.overrides);
  }
  if (!options.config.empty() || !options.overrides.empty())
    throw ConfigError("run --resume takes no config and no --set: a resumed run keeps the config it started with");
  for (const char* file : {"config.resolved.json", "partitions.json", "rounds.jsonl"})
    if (!fs::exists(options.resume / file))
      throw ConfigError("'" + options.resume.string() + "' cannot be resumed: it has no " + file);
  return load_config(options.resume / "config.resolved.json", {});
}

fs::path resume_run(const RunOptions& options, std::ostream& console) {
  const LoadedConfig loaded = load_run_config(options);
  const fs::path& run_dir = options.resume;
  const sim::LaunchEnv env = sim::read_launch_env();
  if (env.rank == 0) OwnedFolder::require_not_in_use(run_dir);  // the other ranks find it held by rank 0
  if (fs::exists(run_dir / "summary.json")) {  // written last: the run is complete, and stays as it is
    console << "run: '" << run_dir.string() << "' is finished (it has summary.json): nothing to resume, nothing changed\n";
    return run_dir;
  }
  if (env.rank > 0) return resume_in(run_dir, loaded, env, console);  // rank 0 alone writes the run folder
  const OwnedFolder folder = OwnedFolder::reopen(run_dir, kRunFolder, {"config.resolved.json", "rounds.jsonl"});
  return resume_in(run_dir, loaded, env, console);
}

fs::path run_run(const RunOptions& options, std::ostream& console) {
  const sim::LaunchEnv env = sim::read_launch_env();
  if (!options.resume.empty()) return resume_run(options, console);
  if (env.world > 1 && options.out.empty() && !options.config.empty())
    throw ConfigError("WORLD_SIZE=" + std::to_string(env.world) + ": give --out, the same run folder for every rank");
  const LoadedConfig loaded = load_run_config(options);
  require_cpu_numerics(loaded.config.runtime.cpu_numerics);  // before anything is written
  const data::Manifest manifest = data::load_manifest(loaded.config.data.manifest);
  if (env.rank > 0) return run_as_peer(loaded, manifest, options.out, env);
  const fs::path run_dir = options.out.empty() ? default_run_dir(options.config) : options.out;
  if (fs::exists(run_dir / "rounds.jsonl"))
    throw ConfigError("'" + run_dir.string() + "' already holds a run; choose another --out");
  OwnedFolder folder = OwnedFolder::claim(run_dir, kRunFolder, options.force);
  try {
    write_file_atomic(run_dir / "config.resolved.json", loaded.resolved_json);
    const auto processes = join_run(loaded, manifest, env, false, run_dir);
    sim::run_experiment(loaded.config, manifest, run_dir, console, control_of(false, console, loaded, processes.get(), env.local_rank));
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
