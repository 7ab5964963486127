#pragma once

#include <filesystem>
#include <ostream>
#include <string>
#include <vector>

namespace CLI {
class App;
}

namespace fedglioma::experiments {

/// Flags of `fedglioma export-nnunet`.
struct ExportNnunetOptions {
  std::filesystem::path config;
  std::filesystem::path out;           ///< the dataset folder, named DatasetXXX_Name
  std::string grid = "native";         ///< native (the files' own grids) | network (what fedglioma trains on)
  std::vector<std::string> overrides;  ///< --set key.path=value
};

/// `fedglioma export-nnunet`: registers the subcommand and its flags, bound to `options`.
CLI::App* setup_export_nnunet(CLI::App& app, ExportNnunetOptions& options);

/// Writes the config's cohort as an nnU-Net v2 raw dataset, so the same cases can train nnU-Net
/// as a baseline: one case per manifest record, `imagesTr/{id}_{0000..0003}.nii.gz` (t1, t1c,
/// t2, flair) with `labelsTr/{id}.nii.gz` (whole tumour 0/1) for the cases the run trains or
/// validates on, `imagesTs`/`labelsTs` for its external and test cases (and for training cases
/// without a mask, which nnU-Net cannot train on), `dataset.json`, and `splits_final.json` with
/// the run's partition: fold 0 the federation's pooled training and validation cases, fold k the
/// k-th client's alone. Grid "native": each file's own geometry (a case's modalities must share
/// one grid); "network": the preprocessed grid, z-scored, as `preprocess --export` writes it.
/// The folder appears only when every case was written. Returns the cases written.
std::size_t run_export_nnunet(const ExportNnunetOptions& options, std::ostream& console);

}  // namespace fedglioma::experiments
