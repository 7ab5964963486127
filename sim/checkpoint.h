#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "core/aggregate.h"

namespace fedglioma::sim {

class Strategy;

/// The run's checkpoint file: `run_dir`/checkpoints/latest.state.
std::filesystem::path checkpoint_path(const std::filesystem::path& run_dir);

/// Writes the checkpoint after `round` atomically: the global model, or every local model when
/// `locals` is not empty (local mode), the strategy's state and the clients' kept optimizer
/// states (empty entries are clients that have none). Nothing else is needed to resume: every
/// random draw is keyed by (seed, round, client, purpose).
void save_checkpoint(const std::filesystem::path& run_dir, int round, const FlatParams& global,
                     const std::vector<FlatParams>& locals, const std::vector<std::string>& optimizer_states,
                     const Strategy& strategy);

/// Restores what save_checkpoint wrote into the same (sized) containers and `strategy`; returns
/// the round it was written after. Throws IoError naming the file when it is missing or damaged.
int load_checkpoint(const std::filesystem::path& run_dir, FlatParams& global, std::vector<FlatParams>& locals,
                    std::vector<std::string>& optimizer_states, Strategy& strategy);

}  // namespace fedglioma::sim
