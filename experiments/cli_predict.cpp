#include "experiments/cli_predict.h"

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <cstdio>

#include <unistd.h>

#include "core/atomic_file.h"
#include "core/error.h"
#include "core/hash.h"
#include "core/numerics.h"
#include "core/owned_folder.h"
#include "core/remove_tree.h"
#include "data/manifest.h"
#include "data/nifti_io.h"
#include "experiments/config_json.h"
#include "sim/state/model_identity.h"
#include "sim/eval/predict.h"

namespace fedglioma::experiments {
namespace {

namespace fs = std::filesystem;

// What predict writes into --out (a patient's own folder may hold a ground-truth mask.nii.gz).
const OwnedFolder::Kind kPredictFolder{"predict", "--force", {"mask.nii.gz", "labels.nii.gz", "markers.json"}};

// predict's --set may change how the scans are read, never what the model was trained on: the
// model's identity is checked against the run's own config, so such a change would pass unseen.
void check_predict_override(const std::string& assignment) {
  const std::string key = assignment.substr(0, assignment.find('='));
  if (key == "data.on_geometry_mismatch" || key.rfind("runtime.", 0) == 0) return;
  throw ConfigError("--set '" + assignment + "': predict takes data.on_geometry_mismatch and runtime.* settings; '" + key +
                    "' is part of what the model was trained on (its config and preprocessing), which predict reads "
                    "from the run's config");
}

}  // namespace

PredictConfig predict_config(const PredictOptions& options) {
  PredictConfig out;
  out.path = options.config.empty() ? options.model.parent_path() / "config.resolved.json" : options.config;
  if (!fs::exists(options.model)) throw ConfigError("--model '" + options.model.string() + "': file does not exist");
  if (!fs::exists(out.path))
    throw ConfigError("'" + out.path.string() + "' does not exist: give the run's config with --config");
  for (const std::string& o : options.overrides) check_predict_override(o);
  const LoadedConfig run_config = load_config(out.path, {});
  out.loaded = options.overrides.empty() ? run_config : load_config(out.path, options.overrides);
  require_cpu_numerics(out.loaded.config.runtime.cpu_numerics);
  if (!options.skip_identity_check) out.expected_identity = sim::model_identity(run_config.resolved_json);
  return out;
}

CLI::App* setup_predict(CLI::App& app, PredictOptions& options) {
  CLI::App* cmd = app.add_subcommand("predict", "Run a trained model on one patient, or a cohort with --cases: tumour mask and probability NIfTI + marker probabilities");
  cmd->add_option("--model", options.model, "Trained weights: RUN_DIR/model.pt")->required();
  cmd->add_option("--config", options.config, "The run's config (default: config.resolved.json beside the model)");
  cmd->add_option("--t1", options.images[0], "T1 NIfTI");
  cmd->add_option("--t1c", options.images[1], "T1 post-contrast NIfTI");
  cmd->add_option("--t2", options.images[2], "T2 NIfTI");
  cmd->add_option("--flair", options.images[3], "FLAIR NIfTI");
  cmd->add_option("--cases", options.cases,
                  "A manifest: predict every case (DIR/<id>/mask.nii.gz, prob.nii.gz; DIR/predictions.csv) "
                  "instead of --t1 --t1c --t2 --flair");
  cmd->add_option("--out", options.out, "Output folder (mask.nii.gz, markers.json; with --cases one folder per case)")
      ->required();
  cmd->add_flag("--force", options.force,
                "Write into an existing folder that predict did not make (refused if it holds mask.nii.gz, labels.nii.gz or "
                "markers.json)");
  cmd->add_option("--set", options.overrides,
                  "Override how the scans are read: data.on_geometry_mismatch=resample, runtime.* (repeatable)");
  cmd->add_flag("--skip-identity-check", options.skip_identity_check,
                "Use a model.pt whose recorded model config or preprocessing differ from the config's (or that records none)");
  return cmd;
}

void run_predict(const PredictOptions& options, std::ostream& console) {
  std::size_t given = 0;
  for (const auto& image : options.images) given += !image.empty();
  if (!options.cases.empty() && given > 0)
    throw ConfigError("predict: give --cases MANIFEST, or one patient's --t1 --t1c --t2 --flair, not both");
  if (!options.cases.empty()) return run_predict_cohort(options, console);
  if (given < 4) throw ConfigError("predict: one patient needs all of --t1 --t1c --t2 --flair (or give --cases MANIFEST)");
  OwnedFolder::check(options.out, kPredictFolder, options.force);  // before the work, not after
  const PredictConfig setup = predict_config(options);
  const fs::path& config_path = setup.path;
  const sim::PatientPrediction result =
      sim::predict_patient(setup.loaded.config, options.model, options.images, setup.expected_identity);

  nlohmann::ordered_json markers = nlohmann::ordered_json::object();
  nlohmann::ordered_json probabilities = nlohmann::ordered_json::object();
  const auto& p = result.markers.prob;
  for (std::size_t m = 0; m < data::kMarkers.size(); ++m) probabilities[data::kMarkers[m]] = p[m];
  markers["probabilities"] = probabilities;
  markers["meaning"] = {{"idh", "P(IDH-mutant)"},
                        {"codeletion_1p19q", "P(1p/19q co-deleted)"},
                        {"mgmt", "P(MGMT promoter methylated)"},
                        {"grade", "P(WHO grade 4)"}};
  if (const auto& grade = result.markers.grade)
    markers["grade_who"] = {{"2", (*grade)[0]}, {"3", (*grade)[1]}, {"4", (*grade)[2]}};
  markers["tumour_voxels_network_grid"] = result.tumour_voxels;
  markers["model"] = {{"path", fs::absolute(options.model).string()}, {"fingerprint", hex64(fnv1a(read_file(options.model)))}};
  markers["config"] = {{"path", fs::absolute(config_path).string()}, {"fingerprint", hex64(fnv1a(read_file(config_path)))}};
  nlohmann::ordered_json inputs = nlohmann::ordered_json::object();
  for (std::size_t m = 0; m < data::kModalities.size(); ++m) inputs[data::kModalities[m]] = fs::absolute(options.images[m]).string();
  markers["inputs"] = inputs;

  // Both files are written into a staging folder that becomes --out only when both exist.
  // Its name is this process's own (a folder of the user's called OUT.partial is never touched).
  const fs::path staging = fs::path(options.out.string() + ".partial-" + std::to_string(::getpid()));
  std::error_code ec;
  if (!fs::create_directories(staging, ec) || ec)
    throw IoError("cannot create '" + staging.string() + "'" + (ec ? ": " + ec.message() : ": it exists"));
  try {
    data::write_labels(staging / "mask.nii.gz", result.mask);
    const bool regions = !result.labels.voxels.empty();
    if (regions) data::write_labels(staging / "labels.nii.gz", result.labels);
    write_file_atomic(staging / "markers.json", markers.dump(2) + "\n");
    const OwnedFolder out = OwnedFolder::claim(options.out, kPredictFolder, options.force);
    fs::rename(staging / "mask.nii.gz", options.out / "mask.nii.gz", ec);
    if (!ec && regions) fs::rename(staging / "labels.nii.gz", options.out / "labels.nii.gz", ec);
    if (!ec && !regions) fs::remove(options.out / "labels.nii.gz", ec);  // an earlier regions model's
    if (!ec) fs::rename(staging / "markers.json", options.out / "markers.json", ec);
    if (ec) throw IoError("cannot write into '" + options.out.string() + "': " + ec.message());
    remove_tree(staging, ec);
  } catch (...) {
    remove_tree(staging, ec);
    throw;
  }
  char line[200];
  std::snprintf(line, sizeof line, "IDH %.3f, 1p/19q %.3f, MGMT %.3f, grade 4 %.3f; ", p[0], p[1], p[2], p[3]);
  console << line << "wrote " << (options.out / "mask.nii.gz").string()
          << (result.labels.voxels.empty() ? "" : ", labels.nii.gz (BraTS 2023 labels)") << " and markers.json\n";
}

}  // namespace fedglioma::experiments
