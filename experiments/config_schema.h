#pragma once

#include <nlohmann/json_fwd.hpp>

#include <functional>
#include <string>
#include <vector>

#include "sim/config/experiment_config.h"

namespace fedglioma::experiments {

class ConfigReader;

/// One key of the experiment config, declared once: its dotted path, what it means, how it is
/// read (type, range, allowed values; ConfigError naming the key otherwise) and how it is
/// written. Defaults are ExperimentConfig's own (sim/config/experiment_config.h). The config's shape
/// (and so unknown-key errors), parsing, config.resolved.json and the config reference (docs/config.md)
/// all come from these declarations, so they cannot disagree.
struct ConfigField {
  std::string key;   ///< "train.lr"
  std::string help;  ///< the config reference's "meaning" column
  std::function<void(const ConfigReader& reader, sim::ExperimentConfig& config)> read;
  std::function<nlohmann::json(const sim::ExperimentConfig& config)> write;
};

/// Every field, in the order they are read (a field may check itself against earlier ones:
/// data.size against model.depth, train.patch_size against both) and documented.
const std::vector<ConfigField>& config_schema();

/// Every key of `config` with its value, nested by the dots of the keys (for the defaults: every
/// key with its default). A strategy carries only its own parameters.
nlohmann::json config_to_json(const sim::ExperimentConfig& config);

/// Reads every field from `merged` (the defaults with the user's keys over them).
sim::ExperimentConfig config_from_json(const nlohmann::json& merged);

/// The config reference (docs/config.md): one Markdown row per field (key, default, meaning).
std::string config_reference_markdown();

/// "an integer", "a string", ...: for messages.
std::string json_type_name(const nlohmann::json& value);

}  // namespace fedglioma::experiments
