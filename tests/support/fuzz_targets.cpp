#include "tests/support/fuzz_targets.h"

#include <unistd.h>

#include <filesystem>

#include "core/atomic_file.h"
#include "core/state_bundle.h"
#include "data/label_tables.h"
#include "data/manifest.h"
#include "data/nifti_header.h"
#include "data/patients.h"
#include "experiments/config_json.h"
#include "models/model.h"
#include "models/model_factory.h"
#include "models/multitask_unet3d.h"
#include "sim/state/model_state.h"

namespace fedglioma::fuzz {
namespace {

// The input as a file of this process named `name`, for readers that take a path.
std::filesystem::path input_file(const std::uint8_t* data, std::size_t size, const std::string& name) {
  const auto dir = std::filesystem::temp_directory_path() / ("fedglioma-fuzz-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  const auto path = dir / name;
  write_file_atomic(path, std::string(reinterpret_cast<const char*>(data), size));
  return path;
}

}  // namespace

void fuzz_config(const std::uint8_t* data, std::size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  const auto loaded = experiments::parse_config(text, {}, "fuzz");
  // What a run writes must read back as the same config.
  const auto again = experiments::parse_config(loaded.resolved_json, {}, "resolved");
  if (again.resolved_json != loaded.resolved_json) __builtin_trap();
}

void fuzz_manifest(const std::uint8_t* data, std::size_t size) {
  const auto manifest = data::load_manifest(input_file(data, size, "manifest.json"));
  data::check_patient_leakage(manifest);
}

void fuzz_label_tables(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return;  // the first byte picks the dataset's reader, the rest is the table
  const auto path = input_file(data + 1, size - 1, "labels.csv");
  switch (data[0] % 8) {
    case 0: data::read_ucsf_pdgm_table(path); break;
    case 1: data::read_ucsf_pdgm_brats21_ids(path); break;
    case 2: data::read_upenn_gbm_table(path); break;
    case 3: data::read_rsna_mgmt_table(path); break;
    case 4: data::read_fets_partitions(path); break;
    case 5: data::read_tcga_table(path); break;
    case 6: data::read_crosswalk(path); break;
    default: data::read_egd_table(path); break;
  }
}

void fuzz_nifti(const std::uint8_t* data, std::size_t size) {
  // The header checks that run before ITK sees a file (an uncompressed .nii).
  const auto path = input_file(data, size, "scan.nii");
  if (const auto header = data::read_nifti_header(path)) {
    data::check_header_extent(*header, path);
    data::check_header_geometry(*header, path);
  }
}

void fuzz_checkpoint(const std::uint8_t* data, std::size_t size) {
  load_bundle(input_file(data, size, "latest.state"));
}

void fuzz_model_pt(const std::uint8_t* data, std::size_t size) {
  // Into the tiny test config's model (depth 2, base 4, head 8), whose names and shapes the seeds have.
  const auto path = input_file(data, size, "model.pt").string();
  models::ModelConfig config;
  config.depth = 2;
  config.base_channels = 4;
  config.head_hidden = 8;
  const auto model = models::make_model(config);
  sim::read_model_identity(path);
  sim::load_state_dict(*model, path);
}

const std::vector<Target>& targets() {
  static const std::vector<Target> all = {{"config", fuzz_config},       {"manifest", fuzz_manifest},
                                          {"label_tables", fuzz_label_tables}, {"nifti", fuzz_nifti},
                                          {"checkpoint", fuzz_checkpoint}, {"model_pt", fuzz_model_pt}};
  return all;
}

}  // namespace fedglioma::fuzz
