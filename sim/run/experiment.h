#pragma once

#include <filesystem>
#include <ostream>

#include "data/manifest.h"
#include "sim/config/experiment_config.h"

namespace fedglioma::sim {

class Processes;

/// How a run is driven, beyond its config.
struct RunControl {
  bool resume = false;    ///< continue the run in run_dir after its checkpoint
  bool progress = false;  ///< redraw a progress line (round, clients done, ETA); for terminals only
  /// The resolved config as JSON text: checkpoints record it, and a resume under another is refused.
  std::string config_json;
  /// The run's processes (sim/processes/processes.h); null: this process alone. Every process runs the same
  /// rounds; rank 0 alone writes the run folder, and the others only read it (resume).
  Processes* processes = nullptr;
  int local_rank = 0;  ///< LOCAL_RANK: with runtime.devices "auto", picks this process's GPU
};

/// Runs one experiment into `run_dir` (which must exist): loads the manifest's cases
/// (preprocessed, through the disk cache in data.cache_dir; streamed from it when they exceed
/// data.cache_ram_gb), partitions them into clients, then for each round selects clients (and
/// drops some out, by config), trains them from the strategy's task on the workers, hands the
/// usable updates to the strategy in client-id order, and evaluates the global model (local
/// mode: every client's own model) on the external, validation and test cases every
/// `eval.every` rounds and at the last round. Writes partitions.json, rounds.jsonl (a line per
/// finished round), a checkpoint every runtime.checkpoint_every rounds, metrics.csv,
/// predictions.csv (the last round), summary.json and model.pt; prints the round table to
/// `console`. Throws ConfigError / DataError for unusable input, before any round starts.
/// `control.resume`: continue the run in `run_dir` after its checkpoint; the rounds that follow are
/// exactly those of an uninterrupted run (the partition is checked against partitions.json).
void run_experiment(const ExperimentConfig& config, const data::Manifest& manifest,
                    const std::filesystem::path& run_dir, std::ostream& console, const RunControl& control = {});

}  // namespace fedglioma::sim
