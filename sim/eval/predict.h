#pragma once

#include <array>
#include <filesystem>
#include <functional>
#include <string>

#include "data/manifest.h"
#include "data/volume.h"
#include "sim/eval/evaluation.h"
#include "sim/config/experiment_config.h"

namespace fedglioma::sim {

/// A trained model's result for one patient.
struct PatientPrediction {
  data::MaskVolume mask;                 ///< whole tumour (0/1) on the input T1's grid
  data::FloatVolume probability;         ///< P(whole tumour) on the input T1's grid (linear)
  /// model.segmentation "brats_regions": the BraTS 2023 label map (1 necrotic core, 2 oedema,
  /// 3 enhancing; data::brats2023_label) on the input T1's grid (nearest); else no voxels
  data::MaskVolume labels;
  MarkerProbabilities markers;            ///< per marker (and per grade with 3-class grade)
  std::int64_t tumour_voxels = 0;         ///< on the network grid
  bool finite = true;                     ///< false: a logit was NaN or infinite (the model diverged)
};

/// Runs the model in `model_path` (a model.pt of a run with `config`) on one patient's four
/// modalities (kModalities order): preprocessing exactly as training did (config.data), the
/// forward pass on the first device of config.runtime.devices, the mask thresholded at 0.5 and
/// mapped back onto the T1's original grid (spacing, origin, direction as in its file; nearest
/// neighbour), the probability map too (linear). `expected_identity` (model_identity of the
/// config), unless empty, must be the identity stored in the model (checked before any work).
/// Throws DataError for unreadable or mismatched inputs (naming the file), ConfigError for a
/// model that does not match the config.
PatientPrediction predict_patient(const ExperimentConfig& config, const std::filesystem::path& model_path,
                                  const std::array<std::filesystem::path, 4>& images,
                                  const std::string& expected_identity);

/// predict_patient for every case of `cohort`, the model loaded once: cases are preprocessed a
/// chunk at a time on config.runtime's threads (workers x threads_per_worker), then run one at a
/// time on the first configured device; each result goes to `emit` in manifest order and is then
/// dropped, so memory does not grow with the cohort. `progress` (optional) gets (done, total).
/// Errors name the first failing case in manifest order.
void predict_cohort(const ExperimentConfig& config, const std::filesystem::path& model_path, const data::Manifest& cohort,
                    const std::string& expected_identity,
                    const std::function<void(const data::Case&, const PatientPrediction&)>& emit,
                    const std::function<void(std::size_t, std::size_t)>& progress = {});

}  // namespace fedglioma::sim
