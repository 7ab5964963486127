#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "core/aggregate.h"
#include "data/dataset.h"

namespace fedglioma::sim {

class Strategy;

/// What a run trains from: its resolved config (JSON text) and one fingerprint per case ("id hex"
/// lines in manifest order, see data::Sample::fingerprint). A checkpoint carries the identity it
/// was written under, and resuming under another one is refused.
struct RunIdentity {
  std::string config;
  std::string data;
};

/// The data part of a RunIdentity for `samples`.
std::string data_identity(const std::vector<data::Sample>& samples);

/// Where a run stands at a checkpoint: the last finished round, and the wall seconds and number of
/// processes that brought it there (so that a resumed run's summary counts every process).
struct RunProgress {
  int round = 0;
  double seconds = 0.0;
  int processes = 1;
};

/// The run's checkpoint file: `run_dir`/checkpoints/latest.state.
std::filesystem::path checkpoint_path(const std::filesystem::path& run_dir);

/// Writes the checkpoint after `progress.round` atomically: the global model, or every local model when
/// `locals` is not empty (local mode), the strategy's state and the clients' kept optimizer
/// states (empty entries are clients that have none). Nothing else is needed to resume: every
/// random draw is keyed by (seed, round, client, purpose).
void save_checkpoint(const std::filesystem::path& run_dir, const RunProgress& progress, const FlatParams& global,
                     const std::vector<FlatParams>& locals, const std::vector<std::string>& optimizer_states,
                     const Strategy& strategy, const RunIdentity& identity);

/// Restores what save_checkpoint wrote into the same (sized) containers and `strategy`; returns
/// the progress it was written with. Throws IoError naming the file when it is missing or damaged,
/// and ConfigError naming what changed (config keys with both values, case ids) when `expected`
/// is not the identity it was written under: nothing is restored then.
RunProgress load_checkpoint(const std::filesystem::path& run_dir, FlatParams& global, std::vector<FlatParams>& locals,
                    std::vector<std::string>& optimizer_states, Strategy& strategy, const RunIdentity& expected);

}  // namespace fedglioma::sim
