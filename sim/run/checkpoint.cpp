#include "sim/run/checkpoint.h"

#include <map>
#include <sstream>

#include "core/error.h"
#include "core/hash.h"
#include "core/json_document.h"
#include "core/remove_tree.h"
#include "core/state_bundle.h"
#include "sim/state/client_state.h"
#include "sim/strategy/strategy.h"

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

void check_config(const fs::path& file, const StateBundle& state, const std::string& expected) {
  const auto config = state.texts.find("identity_config");
  if (config == state.texts.end() || !state.texts.count("identity_data"))
    throw ConfigError("'" + file.string() +
                      "' was written by an older fedglioma that did not record the run's config and data; "
                      "it cannot be checked, so it is not resumed: start the run again");
  if (config->second != expected)
    throw ConfigError("cannot resume: the config differs from the one the checkpoint '" + file.string() +
                      "' was written under (" +
                      json_differences(parse_json_document(config->second), parse_json_document(expected)) +
                      "); a resumed run keeps its config: start a new run to change it");
}

void check_identity(const fs::path& file, const StateBundle& state, const RunIdentity& expected) {
  check_config(file, state, expected.config);
  const std::string& data = state.texts.at("identity_data");
  if (data != expected.data)
    throw ConfigError("cannot resume: the data differ from those the checkpoint '" + file.string() +
                      "' was trained on (case " + changed_cases(data, expected.data) +
                      "); the files were regenerated or edited: start a new run");
}

}  // namespace

std::string data_identity(const std::vector<data::Sample>& samples, const std::vector<std::uint64_t>& fingerprints) {
  std::string text;
  for (std::size_t i = 0; i < samples.size(); ++i) text += samples[i].id + " " + hex64(fingerprints[i]) + "\n";
  return text;
}

std::string data_identity(const std::vector<data::Sample>& samples) {
  std::vector<std::uint64_t> fingerprints;
  for (const data::Sample& s : samples) fingerprints.push_back(s.fingerprint);
  return data_identity(samples, fingerprints);
}

fs::path checkpoint_path(const fs::path& run_dir) { return run_dir / "checkpoints" / "latest.state"; }

void check_checkpoint_config(const fs::path& run_dir, const std::string& config_json) {
  check_config(checkpoint_path(run_dir), load_bundle(checkpoint_path(run_dir)), config_json);
}

void save_checkpoint(const fs::path& run_dir, const RunProgress& progress, const FlatParams& global,
                     const ClientStateStore& clients, const Strategy& strategy, const RunIdentity& identity,
                     const std::vector<const BundlePart*>& parts) {
  const fs::path dir = run_dir / "checkpoints";
  const std::string snapshot = "clients-r" + std::to_string(progress.round);
  remove_tree(dir / snapshot);  // left by an attempt killed before latest.state named it
  StateBundle state;
  state.integers["round"] = progress.round;
  state.integers["milliseconds"] = static_cast<std::int64_t>(progress.seconds * 1000.0 + 0.5);
  state.integers["processes"] = progress.processes;
  state.texts["identity_config"] = identity.config;
  state.texts["identity_data"] = identity.data;
  state.buffers["global"] = global;
  strategy.save(state);
  for (const BundlePart* part : parts) part->save(state);
  state.texts["client_state"] = snapshot;
  state.texts["client_state_entries"] = clients.snapshot(dir / snapshot);
  save_bundle(state, checkpoint_path(run_dir));
  for (const fs::directory_entry& e : fs::directory_iterator(dir)) {
    const std::string name = e.path().filename().string();
    if (e.is_directory() && name.rfind("clients-r", 0) == 0 && name != snapshot) remove_tree(e.path());
  }
}

RunProgress load_checkpoint(const fs::path& run_dir, FlatParams& global, ClientStateStore& clients,
                            Strategy& strategy, const RunIdentity& expected, const std::vector<BundlePart*>& parts) {
  const fs::path file = checkpoint_path(run_dir);
  const StateBundle state = load_bundle(file);
  check_identity(file, state, expected);
  const auto snapshot = state.texts.find("client_state"), entries = state.texts.find("client_state_entries");
  if (snapshot == state.texts.end() || entries == state.texts.end() || !state.buffers.count("global") ||
      !state.integers.count("round"))
    throw ConfigError("'" + file.string() +
                      "' was written by an older fedglioma that kept the clients' state inside it; it is not "
                      "resumed: start the run again");
  if (snapshot->second.rfind("clients-r", 0) != 0 || snapshot->second.find('/') != std::string::npos)
    throw IoError("'" + file.string() + "': checkpoint state is truncated or corrupt");
  try {
    for (BundlePart* part : parts) part->load(state);
  } catch (const IoError& e) {
    throw IoError("'" + file.string() + "': " + e.what());
  }
  clients.restore(file.parent_path() / snapshot->second, entries->second);
  global = state.buffers.at("global");
  strategy.load(state);
  RunProgress progress;
  progress.round = static_cast<int>(state.integers.at("round"));
  const auto ms = state.integers.find("milliseconds"), processes = state.integers.find("processes");
  if (ms != state.integers.end()) progress.seconds = static_cast<double>(ms->second) / 1000.0;
  if (processes != state.integers.end()) progress.processes = static_cast<int>(processes->second);
  return progress;
}

}  // namespace fedglioma::sim
