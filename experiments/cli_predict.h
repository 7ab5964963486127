#pragma once

#include <array>
#include <filesystem>
#include <string>
#include <vector>
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
  std::filesystem::path out;                   ///< folder for mask.nii.gz and markers.json
  bool force = false;  ///< --force: write into a folder of the user's that holds neither file
  bool skip_identity_check = false;  ///< use a model whose stored model config / preprocessing differ or are absent
  /// --set key.path=value: how the scans are read (data.on_geometry_mismatch) and runtime
  /// settings; what the model was trained on (model.*, data.size, data.spacing) is refused.
  std::vector<std::string> overrides;
};

CLI::App* setup_predict(CLI::App& app, PredictOptions& options);

/// Predicts one patient: writes `out`/mask.nii.gz (whole tumour, 0/1, in the T1's original
/// geometry) and `out`/markers.json (probability per marker, the model and config it came from).
/// Both files appear together or not at all.
void run_predict(const PredictOptions& options, std::ostream& console);

}  // namespace fedglioma::experiments
