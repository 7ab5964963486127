#pragma once

#include <array>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "core/markers.h"

namespace fedglioma::data {

// The modality and marker lists (core/markers.h), under data:: as well.
using fedglioma::kMarkers;
using fedglioma::kModalities;

/// Molecular and histological labels of one case; nullopt = unknown (normal: not every dataset
/// records every marker).
struct Labels {
  std::optional<int> idh;               ///< 1 = IDH-mutant, 0 = wild-type
  std::optional<int> codeletion_1p19q;  ///< 1 = co-deleted, 0 = intact
  std::optional<int> mgmt;              ///< 1 = promoter methylated, 0 = unmethylated
  std::optional<int> grade;             ///< WHO CNS grade 2, 3 or 4

  /// The binary target of marker `m` (index into kMarkers), or nullopt when unknown. Grade maps
  /// to 1 for grade 4 and 0 for grades 2 and 3.
  std::optional<int> binary(std::size_t m) const;
};

/// One patient's record in a manifest.
struct Case {
  std::string id;
  std::string site;
  std::array<std::filesystem::path, 4> images;  ///< absolute paths, kModalities order
  std::optional<std::filesystem::path> mask;    ///< absolute path; optional
  Labels labels;
  std::string split;  ///< train | val | test | external
  /// Other ids of the same patient in other datasets (e.g. UCSF-PDGM-0004's "BraTS2021_00097"):
  /// what deduplication and the leakage check join on.
  std::vector<std::string> aliases;
  /// The patient this scan belongs to when a dataset holds several scans of one patient (BraTS
  /// 2023's timepoints BraTS-GLI-00008-000 and -001): such cases are one patient for the leakage
  /// check and for partitioning, though each is a record of its own. Empty: its own patient.
  std::string patient;
  /// Which volume of a 4-D image file each modality is (the Decathlon stores all four modalities
  /// in one file); -1 for a 3-D file.
  std::array<int, 4> channels{-1, -1, -1, -1};
  /// How the mask's labels read (data/label_conventions.h: brats2021, brats2023, brats2024, msd,
  /// binary); empty: any of 1, 2, 3, 4 is tumour (binary masks and BraTS before 2024).
  std::string label_convention;

  /// `patient` when set, else `id`.
  const std::string& patient_id() const { return patient.empty() ? id : patient; }
};

/// A cohort: the cases and the folder their relative paths were resolved against.
struct Manifest {
  std::filesystem::path base_dir;
  std::vector<Case> cases;
};

/// Reads `manifest.json` (DESIGN.md format). Relative paths resolve against the manifest's
/// folder. Throws DataError naming the file, the case and the field for missing or malformed
/// fields, unknown label values, unknown splits and duplicate ids. Files are not opened here.
Manifest load_manifest(const std::filesystem::path& path);

/// Writes `manifest` as JSON to `path` atomically; paths are written relative to the manifest's
/// folder when they lie under it.
void save_manifest(const Manifest& manifest, const std::filesystem::path& path);

}  // namespace fedglioma::data
