#pragma once

#include <functional>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "models/model_config.h"

namespace fedglioma::models {

class Model;

/// One model a config can name in `model.name`.
struct ModelEntry {
  std::string name;
  std::string summary;  ///< one line for the config reference
  std::function<std::shared_ptr<Model>(const ModelConfig&)> make;
};

/// The known models, in the order they were added.
const std::vector<ModelEntry>& model_entries();
std::set<std::string> model_names();

/// Adds a model at run time (a test's or an extension's); refuses a name already taken.
void add_model(ModelEntry entry);

/// Builds `config.name`'s model, its parameters drawn from the global generator (seed it first).
/// Throws ConfigError naming `model.name` and the known models when the name is unknown.
std::shared_ptr<Model> make_model(const ModelConfig& config);

}  // namespace fedglioma::models
