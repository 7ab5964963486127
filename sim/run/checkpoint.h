#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "core/aggregate.h"
#include "core/state_bundle.h"
#include "data/dataset.h"

namespace fedglioma::sim {

class ClientStateStore;
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
/// The same from each sample's id and `fingerprints` (one per sample; a multi-process run's ranks
/// gather them, each having loaded only some cases).
std::string data_identity(const std::vector<data::Sample>& samples, const std::vector<std::uint64_t>& fingerprints);

/// Where a run stands at a checkpoint: the last finished round, and the wall seconds and number of
/// processes that brought it there (so that a resumed run's summary counts every process).
struct RunProgress {
  int round = 0;
  double seconds = 0.0;
  int processes = 1;
};

/// The run's checkpoint file: `run_dir`/checkpoints/latest.state.
std::filesystem::path checkpoint_path(const std::filesystem::path& run_dir);

/// Writes the checkpoint after `progress.round`: the global model, the strategy's server state and,
/// beside it in `checkpoints/clients-r<round>/`, a snapshot of every client's kept state
/// (`clients`: control variates, norm layers, local models, optimizers; spilled entries are
/// hard-linked, not copied). `latest.state` is written last and atomically and names its
/// snapshot, so a kill at any point leaves the previous checkpoint whole; older snapshots are
/// removed after it. Nothing else is needed to resume: every random draw is keyed by (seed,
/// round, client, purpose). `parts` add the run's other server state (an asynchronous run's clock,
/// clients in flight and their base models; the privacy accounts and clip norm).
void save_checkpoint(const std::filesystem::path& run_dir, const RunProgress& progress, const FlatParams& global,
                     const ClientStateStore& clients, const Strategy& strategy, const RunIdentity& identity,
                     const std::vector<const BundlePart*>& parts = {});

/// Refuses (ConfigError naming each changed key with both values) a resume whose resolved config
/// `config_json` differs from the one the run's checkpoint was written under; reads only the
/// checkpoint, so a run can check it before it loads any case. IoError when it is damaged.
void check_checkpoint_config(const std::filesystem::path& run_dir, const std::string& config_json);

/// Restores what save_checkpoint wrote into `global`, `clients` and `strategy`; returns the progress
/// it was written with. Throws IoError naming the file when it is missing or damaged, and
/// ConfigError naming what changed (config keys with both values, case ids) when `expected` is
/// not the identity it was written under: nothing is restored then. Each of `parts` restores
/// itself (IoError naming the file when the checkpoint lacks it).
RunProgress load_checkpoint(const std::filesystem::path& run_dir, FlatParams& global, ClientStateStore& clients,
                            Strategy& strategy, const RunIdentity& expected,
                            const std::vector<BundlePart*>& parts = {});

}  // namespace fedglioma::sim
