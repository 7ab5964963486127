#include "sim/eval/predict.h"

#include <exception>

#include "core/devices.h"
#include "core/numerics.h"
#include "data/label_conventions.h"
#include "data/preprocess.h"
#include "models/model.h"
#include "models/model_factory.h"
#include "sim/workers/executor.h"
#include "sim/config/data_options.h"
#include "sim/state/model_identity.h"
#include "sim/state/model_state.h"

namespace fedglioma::sim {
namespace {

// The configured model with `model_path`'s weights, on the first configured device.
std::shared_ptr<models::Model> load_model(const ExperimentConfig& config, const std::filesystem::path& model_path,
                                          c10::Device& device) {
  require_cpu_numerics(config.runtime.cpu_numerics);
  device = c10::Device(resolve_devices(config.runtime.devices).front());
  set_cuda_determinism(config.runtime.deterministic, device.is_cuda());
  const std::shared_ptr<models::Model> model = models::make_model(config.model);
  load_state_dict(*model, model_path.string());
  model->to(device);
  return model;
}

// One preprocessed case through the model, its results mapped back onto the case's own grid.
PatientPrediction predict_sample(models::Model& model, const c10::Device& device, const data::Sample& sample,
                                 const data::GridMapping& mapping) {
  CaseOutput output = run_case(model, device, sample);
  PatientPrediction out;
  out.markers = output.markers;
  out.finite = output.finite;
  data::MaskVolume on_grid{sample.geometry, std::move(output.mask)};
  for (std::uint8_t v : on_grid.voxels) out.tumour_voxels += v;
  out.mask = data::to_original_grid(on_grid, mapping);
  out.probability = data::to_original_grid(data::FloatVolume{sample.geometry, std::move(output.probability)}, mapping);
  if (!output.regions.empty()) {
    data::MaskVolume labels{sample.geometry, std::move(output.regions)};
    for (std::uint8_t& v : labels.voxels) v = data::brats2023_label(v);
    out.labels = data::to_original_grid(labels, mapping);
  }
  return out;
}

data::Case patient_record(const std::array<std::filesystem::path, 4>& images) {
  data::Case record;
  record.id = images[0].filename().string();
  record.site = "predict";
  record.split = "external";
  record.images = images;
  return record;
}

}  // namespace

PatientPrediction predict_patient(const ExperimentConfig& config, const std::filesystem::path& model_path,
                                  const std::array<std::filesystem::path, 4>& images,
                                  const std::string& expected_identity) {
  if (!expected_identity.empty()) check_model_identity(model_path.string(), expected_identity);
  data::GridMapping mapping;
  const data::Sample sample = data::preprocess_case(patient_record(images), preprocess_options(config), &mapping);
  c10::Device device(c10::kCPU);
  const auto model = load_model(config, model_path, device);
  return predict_sample(*model, device, sample, mapping);
}

void predict_cohort(const ExperimentConfig& config, const std::filesystem::path& model_path, const data::Manifest& cohort,
                    const std::string& expected_identity,
                    const std::function<void(const data::Case&, const PatientPrediction&)>& emit,
                    const std::function<void(std::size_t, std::size_t)>& progress) {
  if (!expected_identity.empty()) check_model_identity(model_path.string(), expected_identity);
  c10::Device device(c10::kCPU);
  const auto model = load_model(config, model_path, device);
  const data::PreprocessOptions options = preprocess_options(config);
  const int threads = std::max(1, config.runtime.workers * config.runtime.threads_per_worker);
  const std::size_t chunk = 2 * static_cast<std::size_t>(threads), total = cohort.cases.size();
  for (std::size_t begin = 0; begin < total; begin += chunk) {
    const std::size_t end = std::min(total, begin + chunk);
    std::vector<data::Sample> samples(end - begin);
    std::vector<data::GridMapping> mappings(end - begin);
    std::vector<std::exception_ptr> errors(end - begin);
#pragma omp parallel for num_threads(threads) schedule(dynamic)
    for (std::size_t i = begin; i < end; ++i) {
      try {
        samples[i - begin] = data::preprocess_case(cohort.cases[i], options, &mappings[i - begin]);
      } catch (...) {
        errors[i - begin] = std::current_exception();
      }
    }
    for (std::size_t i = begin; i < end; ++i) {
      if (errors[i - begin]) std::rethrow_exception(errors[i - begin]);
      emit(cohort.cases[i], predict_sample(*model, device, samples[i - begin], mappings[i - begin]));
      if (progress) progress(i + 1, total);
    }
  }
}

}  // namespace fedglioma::sim
