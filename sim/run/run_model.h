#pragma once

#include <iosfwd>
#include <memory>

#include "sim/config/experiment_config.h"

namespace fedglioma::models {
class Model;
}

namespace fedglioma::sim {

/// The run's initial global network: built from the run's seed (RngPurpose::kModelInit), checked
/// against the grid (data.size and train.patch_size divisible by its size_multiple: a ConfigError
/// naming the key otherwise) and described on `console` (parameters and FLOPs).
std::shared_ptr<models::Model> initial_model(const ExperimentConfig& config, std::ostream& console);

}  // namespace fedglioma::sim
