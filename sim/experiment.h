#pragma once

#include <filesystem>
#include <ostream>

#include "data/manifest.h"
#include "data/preprocess.h"
#include "sim/experiment_config.h"

namespace fedglioma::sim {

/// The preprocessing that `data` asks for.
data::PreprocessOptions preprocess_options(const DataConfig& data);

/// Throws ConfigError naming data.cache_ram_gb when `cases` preprocessed cases on the data.size
/// grid would not fit in the RAM budget (all of a run's cases are held in memory).
void check_ram_budget(const DataConfig& data, std::size_t cases);

/// Runs one experiment into `run_dir` (which must exist): loads the manifest's cases
/// (preprocessed, through the disk cache in data.cache_dir), partitions
/// them into clients, then for each round trains every client from the global model on the
/// workers, aggregates the updates with FedAvg in client-id order, and evaluates the global model
/// on the external, validation and test cases every `eval.every` rounds and at the last round.
/// Writes partitions.json, rounds.jsonl (a line per finished round), metrics.csv,
/// predictions.csv (the last round), summary.json and model.pt; prints the round table to
/// `console`. Throws ConfigError / DataError for unusable input, before any round starts.
void run_experiment(const ExperimentConfig& config, const data::Manifest& manifest,
                    const std::filesystem::path& run_dir, std::ostream& console);

}  // namespace fedglioma::sim
