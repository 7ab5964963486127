#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "data/manifest.h"

namespace fedglioma::data {

/// What `fedglioma manifest` reads: a public dataset's on-disk layout and its label tables.
struct LayoutOptions {
  std::string layout;                        ///< a name in layout_registry()
  std::filesystem::path root;                ///< the dataset's top folder
  std::vector<std::filesystem::path> labels; ///< label / partition tables (see build_manifest)
  std::string site;                          ///< site name; default: the layout's name
  std::string split = "train";               ///< split of every case: train | val | test | external
  /// folder layout only: "modality=REGEX" for t1, t1c, t2, flair and optionally mask. Each
  /// regex is matched against every file's path relative to the root ('/'-separated) and its
  /// first capture group is the case id.
  std::vector<std::string> patterns;
};

/// Builds a manifest from a dataset's files:
/// - brats2021: `BraTS2021_NNNNN/BraTS2021_NNNNN_{t1,t1ce,t2,flair,seg}.nii.gz`; tables: the
///   RSNA-MICCAI `train_labels.csv` (MGMT) and/or a FeTS `partitioning_*.csv`, which makes each
///   institution a site ("inst-N").
/// - ucsf-pdgm: `UCSF-PDGM-NNNN_nifti/UCSF-PDGM-NNNN_{T1,T1c,T2,FLAIR,tumor_segmentation}.nii.gz`
///   with `UCSF-PDGM-metadata_v2.csv`.
/// - upenn-gbm: `images_structural/<ID>/<ID>_{T1,T1GD,T2,FLAIR}.nii.gz`, masks from
///   `images_segm/<ID>_segm.nii.gz` (preferred) or `automated_segm/<ID>_automated_approx_segm.nii.gz`,
///   with the clinical table.
/// - egd: `SUBJECTS/EGD-NNNN/{T1,T1GD,T2,FLAIR,MASK}.nii.gz` with the genetic/histological table
///   or, without one, each subject's `metadata.json` (IDH, 1p19q, Grade; -1 = unknown).
/// - tcga: BraTS-TCGA files `TCGA-XX-YYYY_<date>_{t1,t1Gd,t2,flair}.nii.gz` in any sub-folder,
///   masks `_GlistrBoost_ManuallyCorrected.nii.gz` preferred over `_GlistrBoost.nii.gz`, with
///   the molecular table.
/// - folder: any private layout, given by `patterns`; the table (optional) has a column `id` and
///   any of `idh`, `codeletion_1p19q`, `mgmt` (0/1), `grade` (2/3/4), `site`, `split`; empty
///   cells are unknown.
/// Cases come out sorted by id. A case with a missing modality is an error naming the folder
/// and the file expected; a case absent from a label table keeps unknown labels. Throws
/// ConfigError for an unknown layout and DataError for unusable files or tables.
/// Label-table rows whose id matches no case found under the root (their labels are not used).
struct UnmatchedRows {
  std::filesystem::path table;
  std::vector<std::string> ids;
};

class TableRows;

/// A dataset layout: its name (`--layout`), its reader and whether it takes `--pattern`. A layout
/// is its file, data/layouts/<stem>.cpp, which defines <stem>_layout(), and one line in the
/// registry's list (data/layouts.cpp); names in errors and `--help` come from the registry.
struct LayoutEntry {
  std::string name;
  Manifest (*read)(const LayoutOptions& options, TableRows& tables);
  bool patterns = false;  ///< reads LayoutOptions::patterns (the folder layout)
};

/// Every layout, in the registry's order.
const std::vector<LayoutEntry>& layout_registry();

/// The layouts' names joined by `separator` ("brats2021, ucsf-pdgm, ...").
std::string layout_names(const std::string& separator = ", ");

/// Builds the manifest (see above); `unmatched`, when given, receives each table's rows that match
/// no case. A layout that reads one table refuses a second (it would replace the first's labels).
Manifest build_manifest(const LayoutOptions& options, std::vector<UnmatchedRows>* unmatched = nullptr);

}  // namespace fedglioma::data
