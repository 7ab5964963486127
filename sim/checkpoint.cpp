#include "sim/checkpoint.h"

#include <map>
#include <sstream>

#include "core/error.h"
#include "core/hash.h"
#include "core/json_document.h"
#include "core/state_bundle.h"
#include "sim/strategy.h"

namespace fedglioma::sim {

namespace fs = std::filesystem;

namespace {

std::map<std::string, std::string> fingerprints_by_id(const std::string& lines) {
  std::map<std::string, std::string> out;
  std::istringstream in(lines);
  for (std::string id, hex; in >> id >> hex;) out[id] = hex;
  return out;
}

// The case ids whose fingerprint changed, appeared or disappeared, at most 3 named.
std::string changed_cases(const std::string& was, const std::string& now) {
  const auto before = fingerprints_by_id(was), after = fingerprints_by_id(now);
  std::vector<std::string> changed;
  for (const auto& [id, hex] : after) {
    const auto it = before.find(id);
    if (it == before.end()) changed.push_back(id + " (new)");
    else if (it->second != hex) changed.push_back(id);
  }
  for (const auto& [id, hex] : before)
    if (!after.count(id)) changed.push_back(id + " (gone)");
  std::string text;
  for (std::size_t i = 0; i < changed.size() && i < 3; ++i) text += (i ? ", " : "") + changed[i];
  if (changed.size() > 3) text += " and " + std::to_string(changed.size() - 3) + " more";
  return text;
}

void check_identity(const fs::path& file, const StateBundle& state, const RunIdentity& expected) {
  const auto config = state.texts.find("identity_config"), data = state.texts.find("identity_data");
  if (config == state.texts.end() || data == state.texts.end())
    throw ConfigError("'" + file.string() +
                      "' was written by an older fedglioma that did not record the run's config and data; "
                      "it cannot be checked, so it is not resumed: start the run again");
  if (config->second != expected.config)
    throw ConfigError("cannot resume: the config differs from the one the checkpoint '" + file.string() +
                      "' was written under (" +
                      json_differences(parse_json_document(config->second), parse_json_document(expected.config)) +
                      "); a resumed run keeps its config: start a new run to change it");
  if (data->second != expected.data)
    throw ConfigError("cannot resume: the data differ from those the checkpoint '" + file.string() +
                      "' was trained on (case " + changed_cases(data->second, expected.data) +
                      "); the files were regenerated or edited: start a new run");
}

}  // namespace

std::string data_identity(const std::vector<data::Sample>& samples) {
  std::string text;
  for (const data::Sample& s : samples) text += s.id + " " + hex64(s.fingerprint) + "\n";
  return text;
}

fs::path checkpoint_path(const fs::path& run_dir) { return run_dir / "checkpoints" / "latest.state"; }

void save_checkpoint(const fs::path& run_dir, const RunProgress& progress, const FlatParams& global, const std::vector<FlatParams>& locals,
                     const std::vector<std::string>& optimizer_states, const Strategy& strategy, const RunIdentity& identity) {
  StateBundle state;
  state.integers["round"] = progress.round;
  state.integers["milliseconds"] = static_cast<std::int64_t>(progress.seconds * 1000.0 + 0.5);
  state.integers["processes"] = progress.processes;
  state.texts["identity_config"] = identity.config;
  state.texts["identity_data"] = identity.data;
  if (locals.empty()) state.buffers["global"] = global;
  for (std::size_t i = 0; i < locals.size(); ++i) state.buffers["local_" + std::to_string(i)] = locals[i];
  strategy.save(state);
  for (std::size_t i = 0; i < optimizer_states.size(); ++i)
    if (!optimizer_states[i].empty()) state.texts["optimizer_" + std::to_string(i)] = optimizer_states[i];
  fs::create_directories(run_dir / "checkpoints");
  save_bundle(state, checkpoint_path(run_dir));
}

RunProgress load_checkpoint(const fs::path& run_dir, FlatParams& global, std::vector<FlatParams>& locals,
                    std::vector<std::string>& optimizer_states, Strategy& strategy, const RunIdentity& expected) {
  const StateBundle state = load_bundle(checkpoint_path(run_dir));
  check_identity(checkpoint_path(run_dir), state, expected);
  if (locals.empty()) global = state.buffers.at("global");
  for (std::size_t i = 0; i < locals.size(); ++i) locals[i] = state.buffers.at("local_" + std::to_string(i));
  strategy.load(state);
  for (std::size_t i = 0; i < optimizer_states.size(); ++i) {
    const auto it = state.texts.find("optimizer_" + std::to_string(i));
    if (it != state.texts.end()) optimizer_states[i] = it->second;
  }
  RunProgress progress;
  progress.round = static_cast<int>(state.integers.at("round"));
  const auto ms = state.integers.find("milliseconds"), processes = state.integers.find("processes");
  if (ms != state.integers.end()) progress.seconds = static_cast<double>(ms->second) / 1000.0;
  if (processes != state.integers.end()) progress.processes = static_cast<int>(processes->second);
  return progress;
}

}  // namespace fedglioma::sim
