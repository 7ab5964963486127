#pragma once

#include <string>

namespace fedglioma::sim {

/// What a trained model must be used with, as JSON text: the `model` section of the resolved
/// config it was trained under and the preprocessing that made its inputs (`data.size`,
/// `data.spacing`, `data.on_geometry_mismatch`), plus the fedglioma version that wrote it (for
/// the reader; not compared). Runs store it inside model.pt (see save_state_dict), with
/// `data_identity` (the text of data_identity: the cases it trained on and their fingerprints):
/// then `run` holds the fingerprints of both, which evaluate checks (check_model_run).
std::string model_identity(const std::string& resolved_config_json, const std::string& data_identity = {});

/// A run's fingerprints: of its resolved config without the settings that change no number
/// (workers, timeouts, RAM budgets, checkpoint spacing, cache paths, TensorBoard, the report,
/// eval.select_by), and of its data identity; hex64 of FNV-1a each. model.pt's `run` record and
/// summary.json's `identity` hold them.
struct RunFingerprint {
  std::string config, data;
};
RunFingerprint run_fingerprint(const std::string& resolved_config_json, const std::string& data_identity);

/// Throws ConfigError naming `model_path` when the identity stored in it differs from `expected`
/// (each differing key with both values), or when it stores none (an older fedglioma's model, or
/// a state dict saved from Python): such a model would run on inputs it was not trained for.
void check_model_identity(const std::string& model_path, const std::string& expected);

/// Whether a model file is a given run's: the fingerprints model_identity stored in it.
struct ModelRunMatch {
  bool recorded = false;  ///< the file records a run (fedglioma 0.x models before this did not)
  bool same_config = false, same_data = false;
};

/// Compares the run recorded in `model_path` with `expected` (model_identity of the run's config
/// and data). Throws IoError naming the file when its record is damaged.
ModelRunMatch check_model_run(const std::string& model_path, const std::string& expected);

}  // namespace fedglioma::sim
