#pragma once

#include <array>
#include <filesystem>
#include <string>

#include "data/volume.h"
#include "sim/eval/evaluation.h"
#include "sim/config/experiment_config.h"

namespace fedglioma::sim {

/// A trained model's result for one patient.
struct PatientPrediction {
  data::MaskVolume mask;                 ///< whole tumour (0/1) on the input T1's grid
  MarkerProbabilities markers;            ///< per marker (and per grade with 3-class grade)
  std::int64_t tumour_voxels = 0;         ///< on the network grid
};

/// Runs the model in `model_path` (a model.pt of a run with `config`) on one patient's four
/// modalities (kModalities order): preprocessing exactly as training did (config.data), the
/// forward pass on the first device of config.runtime.devices, the mask thresholded at 0.5 and
/// mapped back onto the T1's original grid (spacing, origin, direction as in its file).
/// `expected_identity` (model_identity of the config), unless empty, must be the identity stored
/// in the model (checked before any work). Throws DataError for unreadable or mismatched inputs
/// (naming the file), ConfigError for a model that does not match the config.
PatientPrediction predict_patient(const ExperimentConfig& config, const std::filesystem::path& model_path,
                                  const std::array<std::filesystem::path, 4>& images,
                                  const std::string& expected_identity);

}  // namespace fedglioma::sim
