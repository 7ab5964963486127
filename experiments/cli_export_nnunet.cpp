#include "experiments/cli_export_nnunet.h"

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <unistd.h>

#include <regex>
#include <set>

#include "core/atomic_file.h"
#include "core/error.h"
#include "core/owned_folder.h"
#include "core/remove_tree.h"
#include "data/cache.h"
#include "data/label_conventions.h"
#include "data/manifest.h"
#include "data/nifti_io.h"
#include "data/nnunet_names.h"
#include "data/patients.h"
#include "experiments/config_json.h"
#include "sim/config/data_options.h"
#include "sim/run/run_cases.h"
#include "sim/workers/executor.h"

namespace fedglioma::experiments {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

const char* const kEnding = ".nii.gz";
const OwnedFolder::Kind kNnunetFolder{
    "nnunet-export", "", {"dataset.json", "splits_final.json", "imagesTr", "labelsTr", "imagesTs", "labelsTs"}};

// Where a case goes: the training folders, or the test folders (held out, or no mask to train on).
struct Target {
  fs::path images, labels;
};

// A case's four modalities and whole-tumour mask as its files hold them; its modalities (and mask)
// must share one grid, as nnU-Net requires.
void write_native(const data::Case& c, const Target& to) {
  const std::string where = "case '" + c.id + "'";
  data::Geometry grid;
  for (std::size_t m = 0; m < 4; ++m) {
    const data::FloatVolume image = data::read_image(c.images[m], c.channels[m]);
    if (m == 0) grid = image.geometry;
    if (!image.geometry.same_grid(grid))
      throw DataError(where + ": '" + c.images[m].string() + "' is not on the grid of '" + c.images[0].string() +
                      "'; nnU-Net needs one grid per case: export with --grid network (resampled as fedglioma trains)");
    data::write_image(to.images / data::nnunet_image_name(c.id, static_cast<int>(m), kEnding), image);
  }
  if (!c.mask) return;
  const data::MaskVolume labels = data::read_labels(*c.mask);
  if (!labels.geometry.same_grid(grid))
    throw DataError(where + ": mask '" + c.mask->string() + "' is not on the grid of '" + c.images[0].string() + "'");
  const auto tumour = data::whole_tumour(labels.voxels, data::label_convention(c.label_convention),
                                         where + ": mask '" + c.mask->string() + "'");
  data::write_labels(to.labels / data::nnunet_label_name(c.id, kEnding), {labels.geometry, tumour});
}

// A case as the network sees it (preprocess --export's voxels).
void write_network(const data::Sample& s, const Target& to) {
  const auto n = static_cast<std::size_t>(s.geometry.voxel_count());
  for (std::size_t m = 0; m < 4; ++m) {
    data::FloatVolume v{s.geometry, {s.image.begin() + static_cast<std::ptrdiff_t>(m * n),
                                     s.image.begin() + static_cast<std::ptrdiff_t>((m + 1) * n)}};
    data::write_image(to.images / data::nnunet_image_name(s.id, static_cast<int>(m), kEnding), v);
  }
  if (s.has_mask) data::write_labels(to.labels / data::nnunet_label_name(s.id, kEnding), {s.geometry, s.mask});
}

// fold 0: every client's training and validation cases; fold k: client k's. Only cases with a
// mask, the ones in imagesTr (nnU-Net looks every listed case up there).
json splits(const sim::DrawnPartition& drawn, const data::Manifest& manifest) {
  json folds = json::array({{{"train", json::array()}, {"val", json::array()}}});
  for (const auto& client : drawn.positions.clients) {
    json fold = {{"train", json::array()}, {"val", json::array()}};
    for (std::size_t i : client.train)
      if (manifest.cases[i].mask) fold["train"].push_back(manifest.cases[i].id);
    for (std::size_t i : client.val)
      if (manifest.cases[i].mask) fold["val"].push_back(manifest.cases[i].id);
    for (const char* side : {"train", "val"})
      for (const auto& id : fold[side]) folds[0][side].push_back(id);
    folds.push_back(std::move(fold));
  }
  return folds;
}

json description(const ExportNnunetOptions& o, const sim::ExperimentConfig& config, std::size_t training,
                 const sim::DrawnPartition& drawn) {
  json clients = json::array();
  for (const auto& c : drawn.positions.clients) clients.push_back(c.id);
  return {{"channel_names", {{"0", "T1"}, {"1", "T1c"}, {"2", "T2"}, {"3", "FLAIR"}}},
          {"labels", {{"background", 0}, {"tumour", 1}}},
          {"numTraining", training},
          {"file_ending", kEnding},
          {"name", o.out.filename().string()},
          {"description", "exported by fedglioma export-nnunet from " + config.data.manifest},
          {"fedglioma",
           {{"grid", o.grid},
            {"manifest", config.data.manifest},
            {"splits", "splits_final.json: fold 0 = the federation's pooled train/val, fold k = client k (see clients)"},
            {"clients", clients}}}};
}

void check_name(const fs::path& out) {
  static const std::regex name(R"(Dataset\d{3}_[A-Za-z0-9_\-]+)");
  if (!std::regex_match(out.filename().string(), name))
    throw ConfigError("--out '" + out.string() + "': nnU-Net names a raw dataset's folder DatasetXXX_Name (three digits, "
                      "e.g. Dataset501_Glioma)");
}

}  // namespace

CLI::App* setup_export_nnunet(CLI::App& app, ExportNnunetOptions& options) {
  CLI::App* cmd = app.add_subcommand("export-nnunet", "Write a config's cohort and partition as an nnU-Net v2 raw dataset");
  cmd->add_option("--config", options.config, "Experiment config (JSON)")->required();
  cmd->add_option("--out", options.out, "The dataset folder to write, DatasetXXX_Name")->required();
  cmd->add_option("--grid", options.grid, "native (each file's own grid) | network (fedglioma's preprocessed grid)")
      ->capture_default_str()
      ->check(CLI::IsMember({"native", "network"}));
  cmd->add_option("--set", options.overrides, "Override a config field: key.path=value (repeatable)");
  return cmd;
}

std::size_t run_export_nnunet(const ExportNnunetOptions& options, std::ostream& console) {
  check_name(options.out);
  const LoadedConfig loaded = load_config(options.config, options.overrides);
  const sim::ExperimentConfig& config = loaded.config;
  const data::Manifest manifest = data::load_manifest(config.data.manifest);
  data::check_patient_leakage(manifest);
  const sim::DrawnPartition drawn = sim::draw_partition(config, manifest);
  OwnedFolder::check(options.out, kNnunetFolder, false);
  std::set<std::size_t> held(drawn.positions.external.begin(), drawn.positions.external.end());
  held.insert(drawn.positions.test.begin(), drawn.positions.test.end());

  const fs::path staging(options.out.string() + ".partial-" + std::to_string(::getpid()));
  const Target train{staging / "imagesTr", staging / "labelsTr"}, test{staging / "imagesTs", staging / "labelsTs"};
  std::error_code ec;
  fs::create_directories(staging.parent_path(), ec);
  if (!fs::create_directory(staging, ec) || ec)  // new: never a killed export's leftovers
    throw IoError("cannot create '" + staging.string() + "'" + (ec ? ": " + ec.message() : ": it exists"));
  try {
    for (const fs::path& dir : {train.images, train.labels, test.images, test.labels}) {
      fs::create_directories(dir, ec);
      if (ec) throw IoError("cannot create '" + dir.string() + "': " + ec.message());
    }
    std::size_t training = 0;
    const auto target_of = [&](std::size_t i) {
      const bool trains = !held.count(i) && manifest.cases[i].mask;
      training += trains;
      return trains ? train : test;
    };
    const data::SampleCache cache(config.data.cache_dir);
    sim::check_thread_budget(config.runtime);
    const int threads = config.runtime.workers * config.runtime.threads_per_worker;
    for (std::size_t i = 0; i < manifest.cases.size(); ++i) {
      if (options.grid == "native") {
        write_native(manifest.cases[i], target_of(i));
      } else {  // one case at a time: memory stays flat whatever the cohort
        data::PreprocessOptions whole = sim::preprocess_options(config);
        whole.regions = false;  // dataset.json declares the whole tumour, as --grid native writes it
        const auto samples = data::load_samples({&manifest.cases[i]}, whole, cache, threads);
        write_network(samples.front(), target_of(i));
      }
    }
    write_file_atomic(staging / "dataset.json", description(options, config, training, drawn).dump(2) + "\n");
    write_file_atomic(staging / "splits_final.json", splits(drawn, manifest).dump(2) + "\n");
    OwnedFolder::publish(staging, options.out, kNnunetFolder);
    console << "exported " << manifest.cases.size() << " case(s) (" << training << " in imagesTr, "
            << manifest.cases.size() - training << " in imagesTs) on the " << options.grid << " grid to "
            << options.out.string() << "\n";
  } catch (...) {
    remove_tree(staging, ec);
    throw;
  }
  return manifest.cases.size();
}

}  // namespace fedglioma::experiments
