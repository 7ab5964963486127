#pragma once

#include <filesystem>
#include <memory>
#include <ostream>
#include <string>
#include <vector>

#include "data/manifest.h"
#include "sim/eval/eval_plan.h"
#include "sim/config/experiment_config.h"

namespace fedglioma::data {
class SampleStore;
}

namespace fedglioma::sim {

class Processes;
struct RunControl;

// A run's cases before training: the partition checked from the manifest alone, the cases each
// process loads, and the data identity checkpoints record.

/// The run's partition, drawn once from the manifest before any case is decoded: its positions
/// (bind_partition puts them over the loaded cases) and partitions.json's text.
struct DrawnPartition {
  PartitionPositions positions;
  std::string text;
};

/// Draws the partition from the manifest alone and checks it against the config (clients for
/// min_clients and simulated time).
DrawnPartition draw_partition(const ExperimentConfig& config, const data::Manifest& manifest);

/// Throws ConfigError unless `drawn` is the partition of the run in `run_dir` (its partitions.json).
void require_run_partition(const DrawnPartition& drawn, const std::filesystem::path& run_dir);

/// draw_partition, and (on resume) the partition and config checked against the run's own, so a
/// bad partition or a changed run fails in a second, not after preprocessing. A new run writes
/// partitions.json when `writes` (rank 0).
DrawnPartition check_partition(const ExperimentConfig& config, const data::Manifest& manifest,
                               const std::filesystem::path& run_dir, const RunControl& control, bool writes);

/// The cases this process uses (one flag per manifest case; empty: all of them, in one process).
std::vector<bool> needed_cases(const ExperimentConfig& config, const data::Manifest& manifest,
                               const DrawnPartition& drawn, const Processes& processes);

/// The manifest's `needed` cases, preprocessed (or read from the cache), once nothing trains on a
/// held-out patient and the threads fit the machine.
std::unique_ptr<data::SampleStore> load_cases(const ExperimentConfig& config, const data::Manifest& manifest,
                                              std::ostream& console, std::vector<bool> needed);

/// The run's data identity (every case's id and fingerprint), gathered across processes.
std::string shared_data_identity(const data::SampleStore& store, Processes& processes);

/// Which models the run's evaluations cover: local mode its clients' own; a personalising
/// strategy (StrategyEntry::personal) or eval.finetune_epochs the global model and the clients'
/// own; else the global one.
EvalModels eval_models(const ExperimentConfig& config);

}  // namespace fedglioma::sim
