#pragma once

#include <nlohmann/json_fwd.hpp>

#include "sim/experiment_config.h"

namespace fedglioma::experiments {

/// The one description of the config's shape: every key of `config` with its value (for the
/// defaults, every key with its default); a strategy carries only its own parameters. Unknown-key
/// checks, defaults and config.resolved.json all come from it, so they cannot disagree.
nlohmann::json config_to_json(const sim::ExperimentConfig& config);

}  // namespace fedglioma::experiments
