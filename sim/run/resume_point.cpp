#include "sim/run/resume_point.h"

#include <string>

#include "core/atomic_file.h"
#include "core/error.h"

namespace fedglioma::sim {

namespace fs = std::filesystem;

ResumePoint resume_run(const fs::path& run_dir, FlatParams& global, ClientStateStore& clients, Strategy& strategy,
                       const RunIdentity& identity, const std::vector<BundlePart*>& parts, std::ostream& console,
                       bool writes) {
  ResumePoint at;
  at.before.processes = 0;
  if (fs::exists(checkpoint_path(run_dir))) at.before = load_checkpoint(run_dir, global, clients, strategy, identity, parts);
  at.first_round = at.before.round + 1;
  const fs::path rounds_path = run_dir / "rounds.jsonl";
  RoundsFile logged = read_rounds_file(rounds_path, "the run cannot be resumed from it",
                                       static_cast<std::size_t>(at.first_round - 1));
  at.history = std::move(logged.rounds);
  if (static_cast<int>(at.history.size()) != at.first_round - 1)
    throw IoError("'" + rounds_path.string() + "' holds fewer rounds than the checkpoint");
  if (writes) write_file_atomic(rounds_path, logged.text);
  console << (at.first_round > 1 ? "fedglioma: resuming after round " + std::to_string(at.first_round - 1)
                                 : std::string("fedglioma: no checkpoint yet: starting again from round 1"))
          << "\n";
  return at;
}

}  // namespace fedglioma::sim
