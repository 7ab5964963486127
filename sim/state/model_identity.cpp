#include "sim/state/model_identity.h"

#include <nlohmann/json.hpp>

#include "core/error.h"
#include "core/json_document.h"
#include "sim/state/model_state.h"

namespace fedglioma::sim {

std::string model_identity(const std::string& resolved_config_json) {
  const nlohmann::json config = parse_json_document(resolved_config_json);
  nlohmann::json identity;
  identity["fedglioma"] = FEDGLIOMA_VERSION;
  identity["model"] = config.at("model");
  identity["preprocessing"] = {{"size", config.at("data").at("size")},
                               {"spacing", config.at("data").at("spacing")},
                               {"on_geometry_mismatch", config.at("data").at("on_geometry_mismatch")}};
  return identity.dump(2) + "\n";
}

void check_model_identity(const std::string& model_path, const std::string& expected) {
  const std::string stored = read_model_identity(model_path);
  if (stored.empty())
    throw ConfigError("'" + model_path +
                      "' records no model config or preprocessing (written by an older fedglioma, or saved from "
                      "Python), so predict cannot check that it matches the config; pass --skip-identity-check to "
                      "use it with this config anyway");
  nlohmann::json was, now;
  try {
    was = parse_json_document(stored);
    now = parse_json_document(expected);
  } catch (const std::exception& e) {
    throw IoError("'" + model_path + "': its fedglioma.json record is damaged (" + std::string(e.what()) + ")");
  }
  was.erase("fedglioma");
  now.erase("fedglioma");
  if (was != now)
    throw ConfigError("'" + model_path + "' was trained with another model or preprocessing than the config gives (" +
                      "in the model -> in the config: " + json_differences(was, now) +
                      "); give the run's own config with --config, or pass --skip-identity-check");
}

}  // namespace fedglioma::sim
