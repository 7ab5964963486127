#include "experiments/config_json.h"

#include <nlohmann/json.hpp>

#include <cctype>
#include <cmath>
#include <set>

#include "core/atomic_file.h"
#include "core/error.h"
#include "core/json_document.h"
#include "experiments/config_schema.h"
#include "sim/strategy/strategy_registry.h"

namespace fedglioma::experiments {
namespace {

using nlohmann::json;
using sim::ExperimentConfig;


// Copies `user` over `into`, refusing keys that `into` (the defaults) does not have.
void merge_checked(json& into, const json& user, const std::string& prefix) {
  for (const auto& [key, value] : user.items()) {
    const std::string path = prefix.empty() ? key : prefix + "." + key;
    if (!into.contains(key)) {
      std::string known;
      for (const auto& [k, v] : into.items()) known += (known.empty() ? "" : ", ") + k;
      throw ConfigError("unknown config key '" + path + "' (known keys" + (prefix.empty() ? "" : " in '" + prefix + "'") +
                        ": " + known + ")");
    }
    json& target = into[key];
    if (target.is_object() && target.empty()) {  // a map with keys of the user's choosing
      if (!value.is_object()) throw ConfigError(path + ": expected an object, got " + json_type_name(value));
      target = value;
    } else if (target.is_object()) {
      if (!value.is_object()) throw ConfigError(path + ": expected an object, got " + json_type_name(value));
      merge_checked(target, value, path);
    } else {
      target = value;
    }
  }
}

void apply_override(json& user, const std::string& assignment) {
  const auto eq = assignment.find('=');
  if (eq == std::string::npos || eq == 0)
    throw ConfigError("--set '" + assignment + "': expected key.path=value");
  const std::string path = assignment.substr(0, eq), text = assignment.substr(eq + 1);
  json value = json::parse(text, nullptr, false);
  if (value.is_discarded()) value = text;  // not JSON: take it as a string
  json* node = &user;
  std::size_t start = 0;
  while (true) {
    const auto dot = path.find('.', start);
    const std::string key = path.substr(start, dot == std::string::npos ? std::string::npos : dot - start);
    if (key.empty()) throw ConfigError("--set '" + assignment + "': empty key in '" + path + "'");
    if (!node->is_object()) *node = json::object();
    if (dot == std::string::npos) {
      (*node)[key] = value;
      return;
    }
    node = &(*node)[key];
    start = dot + 1;
  }
}

// Whether `message` names the config key `key` (or a key inside it) as a whole: "train.lr" is not
// named by "train.lr_schedule: ...", nor "rounds" by "federation.rounds".
bool names_key(const std::string& message, const std::string& key) {
  const auto part_of_key = [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.'; };
  for (auto at = message.find(key); at != std::string::npos; at = message.find(key, at + 1)) {
    const std::size_t end = at + key.size();
    const bool starts = at == 0 || !part_of_key(message[at - 1]);
    const bool ends = end == message.size() || message[end] == '.' || !part_of_key(message[end]);
    if (starts && ends) return true;
  }
  return false;
}

// Where a problem comes from: the --set whose key the message names (the longest such key),
// else the config file.
std::string culprit(const std::string& message, const std::vector<std::string>& overrides, const std::string& source) {
  std::string found, key_found;
  for (const std::string& o : overrides) {
    const std::string key = o.substr(0, o.find('='));
    if (!key.empty() && key.size() > key_found.size() && names_key(message, key)) {
      found = "--set " + o;
      key_found = key;
    }
  }
  return found.empty() ? source : found;
}

// The config's paths. A relative path written in a config file is relative to that file's folder
// (`base`); one given with --set, and a default, to the working directory. config.resolved.json
// holds them absolute, so a run folder resumes, and a sweep runs, from any working directory.
const char* const kPathKeys[][2] = {{"data", "manifest"}, {"data", "cache_dir"}, {"model", "path"}};

void resolve_file_paths(json& user, const std::filesystem::path& base) {
  if (base.empty()) return;
  for (const auto& [section, key] : kPathKeys) {
    if (!user.contains(section) || !user[section].is_object() || !user[section].contains(key)) continue;
    json& value = user[section][key];
    if (value.is_string() && !value.get<std::string>().empty() && std::filesystem::path(value.get<std::string>()).is_relative())
      value = (base / value.get<std::string>()).lexically_normal().string();
  }
}

void make_absolute(ExperimentConfig& config) {
  for (std::string* path : {&config.data.manifest, &config.data.cache_dir, &config.model.path})
    if (!path->empty()) *path = std::filesystem::absolute(*path).lexically_normal().string();
}

}  // namespace

LoadedConfig parse_config(const std::string& text, const std::vector<std::string>& overrides,
                          const std::string& source, const std::filesystem::path& base_dir) {
  json user;
  try {
    user = parse_json_document(text);
  } catch (const std::invalid_argument& e) {
    throw ConfigError(source + ": " + e.what());
  }
  if (!user.is_object()) throw ConfigError(source + ": expected a JSON object at the top level");
  resolve_file_paths(user, base_dir);
  for (const std::string& o : overrides) apply_override(user, o);
  // federation.strategy may be given as a bare name; its parameters depend on the name.
  ExperimentConfig defaults;
  if (user.contains("federation") && user["federation"].is_object() && user["federation"].contains("strategy")) {
    json& strategy = user["federation"]["strategy"];
    if (strategy.is_string()) strategy = json{{"name", strategy}};
    if (strategy.is_object() && strategy.contains("name") && strategy["name"].is_string())
      defaults.federation.strategy = sim::StrategyConfig::defaults(strategy["name"].get<std::string>());
  }
  json merged = config_to_json(defaults);
  try {
    merge_checked(merged, user, "");
    LoadedConfig out;
    out.config = config_from_json(merged);
    make_absolute(out.config);
    out.resolved_json = config_to_json(out.config).dump(2) + "\n";
    return out;
  } catch (const ConfigError& e) {
    throw ConfigError(culprit(e.what(), overrides, source) + ": " + e.what());
  }
}

LoadedConfig load_config(const std::filesystem::path& path, const std::vector<std::string>& overrides) {
  return parse_config(read_file(path, kMaxTextInputBytes), overrides, "'" + path.string() + "'",
                      std::filesystem::absolute(path).parent_path());
}

}  // namespace fedglioma::experiments
