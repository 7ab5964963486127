#pragma once

#include <array>
#include <filesystem>
#include <string>
#include <vector>

#include "experiments/config_json.h"
#include <ostream>

namespace CLI {
class App;
}

namespace fedglioma::experiments {

/// Flags of `fedglioma predict`.
struct PredictOptions {
  std::filesystem::path model;                 ///< RUN_DIR/model.pt
  std::filesystem::path config;                ///< empty: the config.resolved.json beside the model
  std::array<std::filesystem::path, 4> images;  ///< --t1 --t1c --t2 --flair
  std::filesystem::path cases;                 ///< --cases MANIFEST: every case of a cohort instead
  std::filesystem::path out;                   ///< folder for mask.nii.gz and markers.json
  bool force = false;  ///< --force: write into a folder of the user's that holds neither file
  bool skip_identity_check = false;  ///< use a model whose stored model config / preprocessing differ or are absent
  /// --set key.path=value: how the scans are read (data.on_geometry_mismatch) and runtime
  /// settings; what the model was trained on (model.*, data.size, data.spacing) is refused.
  std::vector<std::string> overrides;
};

CLI::App* setup_predict(CLI::App& app, PredictOptions& options);

/// What both forms of predict work from: the run's config (--config, or config.resolved.json
/// beside the model) with the --set overrides, and the model identity it expects ("" with
/// --skip-identity-check; checked against the run's own config, never the overridden one).
struct PredictConfig {
  std::filesystem::path path;
  LoadedConfig loaded;
  std::string expected_identity;
};
PredictConfig predict_config(const PredictOptions& options);

/// Predicts one patient: writes `out`/mask.nii.gz (whole tumour, 0/1, in the T1's original
/// geometry) and `out`/markers.json (probability per marker, the model and config it came from).
/// Both files appear together or not at all. With `cases`, run_predict_cohort instead.
void run_predict(const PredictOptions& options, std::ostream& console);

/// `predict --cases MANIFEST --out DIR`: every case of the manifest, writing `DIR/<id>/mask.nii.gz`
/// (0/1) and `DIR/<id>/prob.nii.gz` (float P(whole tumour)), both in the case's T1 geometry, and
/// `DIR/predictions.csv`: per case the marker probabilities, the predicted whole-tumour volume
/// (ml: the mask's voxels times the T1's voxel volume) and, where the manifest has a mask, Dice
/// against it in the T1's geometry; progress on the console. DIR appears whole or not at all.
void run_predict_cohort(const PredictOptions& options, std::ostream& console);

}  // namespace fedglioma::experiments
