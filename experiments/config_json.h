#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "sim/config/experiment_config.h"

namespace fedglioma::experiments {

/// A config read from disk, validated, with every default filled in.
struct LoadedConfig {
  sim::ExperimentConfig config;
  std::string resolved_json;  ///< the resolved config as JSON text (config.resolved.json)
};

/// Parses a config from JSON text (DESIGN.md, "Experiment config"), applying `overrides` of the
/// form "key.path=value" (the value is JSON when it parses as JSON, else a string) on top.
/// Missing keys take their defaults. Throws ConfigError naming the key for an unknown key, a
/// value of the wrong type or out of range, or a malformed override; `source` names the origin
/// (a file path) in messages. Paths (data.manifest, data.cache_dir) come out absolute: a relative
/// one written in the text is relative to `base_dir` (the config file's folder; empty: the
/// working directory), one given in `overrides` or a default relative to the working directory.
LoadedConfig parse_config(const std::string& text, const std::vector<std::string>& overrides,
                          const std::string& source, const std::filesystem::path& base_dir = {});

/// Reads and parses a config file; its relative paths are relative to its folder. Throws IoError
/// when it cannot be read.
LoadedConfig load_config(const std::filesystem::path& path, const std::vector<std::string>& overrides);

}  // namespace fedglioma::experiments
