#pragma once

#include <filesystem>
#include <ostream>

#include "data/manifest.h"
#include "sim/experiment_config.h"

namespace fedglioma::sim {

/// Runs one experiment into `run_dir` (which must exist): loads the manifest's cases, partitions
/// them into clients, then for each round trains every client from the global model on the
/// workers, aggregates the updates with FedAvg in client-id order, and evaluates the global model
/// on the external, validation and test cases every `eval.every` rounds and at the last round.
/// Writes partitions.json, rounds.jsonl (a line per finished round), metrics.csv,
/// predictions.csv (the last round), summary.json and model.pt; prints the round table to
/// `console`. Throws ConfigError / DataError for unusable input, before any round starts.
void run_experiment(const ExperimentConfig& config, const data::Manifest& manifest,
                    const std::filesystem::path& run_dir, std::ostream& console);

}  // namespace fedglioma::sim
