#include "sim/eval/predict.h"

#include "core/devices.h"
#include "core/numerics.h"
#include "data/preprocess.h"
#include "models/model.h"
#include "models/model_factory.h"
#include "sim/workers/executor.h"
#include "sim/config/data_options.h"
#include "sim/state/model_identity.h"
#include "sim/state/model_state.h"

namespace fedglioma::sim {

PatientPrediction predict_patient(const ExperimentConfig& config, const std::filesystem::path& model_path,
                                  const std::array<std::filesystem::path, 4>& images,
                                  const std::string& expected_identity) {
  if (!expected_identity.empty()) check_model_identity(model_path.string(), expected_identity);
  data::Case record;
  record.id = images[0].filename().string();
  record.site = "predict";
  record.split = "external";
  record.images = images;
  data::GridMapping mapping;
  const data::Sample sample = data::preprocess_case(record, preprocess_options(config.data), &mapping);

  require_cpu_numerics(config.runtime.cpu_numerics);
  const c10::Device device(resolve_devices(config.runtime.devices).front());
  set_cuda_determinism(config.runtime.deterministic, device.is_cuda());
  const std::shared_ptr<models::Model> model = models::make_model(config.model);
  load_state_dict(*model, model_path.string());
  model->to(device);
  CaseOutput output = run_case(*model, device, sample);

  PatientPrediction out;
  out.markers = output.markers;
  data::MaskVolume on_grid;
  on_grid.geometry = sample.geometry;
  on_grid.voxels = std::move(output.mask);
  for (std::uint8_t v : on_grid.voxels) out.tumour_voxels += v;
  out.mask = data::to_original_grid(on_grid, mapping);
  return out;
}

}  // namespace fedglioma::sim
