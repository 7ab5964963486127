#include "sim/checkpoint.h"

#include "core/state_bundle.h"
#include "sim/strategy.h"

namespace fedglioma::sim {

namespace fs = std::filesystem;

fs::path checkpoint_path(const fs::path& run_dir) { return run_dir / "checkpoints" / "latest.state"; }

void save_checkpoint(const fs::path& run_dir, int round, const FlatParams& global, const std::vector<FlatParams>& locals,
                     const std::vector<std::string>& optimizer_states, const Strategy& strategy) {
  StateBundle state;
  state.integers["round"] = round;
  if (locals.empty()) state.buffers["global"] = global;
  for (std::size_t i = 0; i < locals.size(); ++i) state.buffers["local_" + std::to_string(i)] = locals[i];
  strategy.save(state);
  for (std::size_t i = 0; i < optimizer_states.size(); ++i)
    if (!optimizer_states[i].empty()) state.texts["optimizer_" + std::to_string(i)] = optimizer_states[i];
  fs::create_directories(run_dir / "checkpoints");
  save_bundle(state, checkpoint_path(run_dir));
}

int load_checkpoint(const fs::path& run_dir, FlatParams& global, std::vector<FlatParams>& locals,
                    std::vector<std::string>& optimizer_states, Strategy& strategy) {
  const StateBundle state = load_bundle(checkpoint_path(run_dir));
  if (locals.empty()) global = state.buffers.at("global");
  for (std::size_t i = 0; i < locals.size(); ++i) locals[i] = state.buffers.at("local_" + std::to_string(i));
  strategy.load(state);
  for (std::size_t i = 0; i < optimizer_states.size(); ++i) {
    const auto it = state.texts.find("optimizer_" + std::to_string(i));
    if (it != state.texts.end()) optimizer_states[i] = it->second;
  }
  return static_cast<int>(state.integers.at("round"));
}

}  // namespace fedglioma::sim
