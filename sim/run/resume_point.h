#pragma once

#include <filesystem>
#include <ostream>
#include <vector>

#include "core/aggregate.h"
#include "core/state_bundle.h"
#include "sim/record/run_log.h"
#include "sim/run/checkpoint.h"

namespace fedglioma::sim {

class ClientStateStore;
class Strategy;

/// Where a resumed run continues: after its checkpoint, with the rounds logged up to it.
struct ResumePoint {
  int first_round = 1;
  std::vector<RoundRecord> history;
  RunProgress before;  ///< the processes before this one, up to the checkpoint
};

/// Restores the checkpoint of the run in `run_dir` into `global`, `clients`, `strategy` and
/// `parts` (when it has one; without, the run starts over: round 1 follows from the seed alone),
/// reads its rounds.jsonl up to it and, when `writes` (rank 0), drops the later lines (and one cut
/// short by a kill). Says on `console` where it resumes. IoError when rounds.jsonl holds fewer
/// rounds than the checkpoint.
ResumePoint resume_run(const std::filesystem::path& run_dir, FlatParams& global, ClientStateStore& clients,
                       Strategy& strategy, const RunIdentity& identity, const std::vector<BundlePart*>& parts,
                       std::ostream& console, bool writes);

}  // namespace fedglioma::sim
