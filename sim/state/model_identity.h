#pragma once

#include <string>

namespace fedglioma::sim {

/// What a trained model must be used with, as JSON text: the `model` section of the resolved
/// config it was trained under and the preprocessing that made its inputs (`data.size`,
/// `data.spacing`, `data.on_geometry_mismatch`), plus the fedglioma version that wrote it (for
/// the reader; not compared). Runs store it inside model.pt (see save_state_dict).
std::string model_identity(const std::string& resolved_config_json);

/// Throws ConfigError naming `model_path` when the identity stored in it differs from `expected`
/// (each differing key with both values), or when it stores none (an older fedglioma's model, or
/// a state dict saved from Python): such a model would run on inputs it was not trained for.
void check_model_identity(const std::string& model_path, const std::string& expected);

}  // namespace fedglioma::sim
