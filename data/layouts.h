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
  /// brats2023 only: the release, 2023 (labels 1 NCR, 2 ED, 3 ET) or 2024 / 2025 (post-treatment:
  /// 4 = resection cavity, not tumour); empty: recognised from the names of the root and its
  /// release folders ("ASNR-MICCAI-BraTS2023-GLI-Challenge-TrainingData"), an error when they
  /// name none or several.
  std::string release;
  /// msd and nnunet: "modality=INDEX" (t1=0, flair=3) for channels whose dataset.json names are
  /// ambiguous or wrong; overrides what the names say.
  std::vector<std::string> channels;
  /// folder layout's table: the id column (default "id"), "field=COLUMN" renames (idh=IDH1) and
  /// "field:SPELLING=VALUE" value maps (idh:mutant=1, grade:GBM=4) for published tables.
  std::string id_column;
  std::vector<std::string> columns;
  std::vector<std::string> values;
};

/// Builds a manifest from a dataset's files:
/// - brats2021: `BraTS2021_NNNNN/BraTS2021_NNNNN_{t1,t1ce,t2,flair,seg}.nii.gz`; tables: the
///   RSNA-MICCAI `train_labels.csv` (MGMT) and/or a FeTS `partitioning_*.csv`, which makes each
///   institution a site ("inst-N").
/// - brats2023: `[release folder/]BraTS-GLI-NNNNN-TTT/<case>-{t1n,t1c,t2w,t2f,seg}.nii.gz`; TTT is
///   a timepoint of patient NNNNN (Case::patient); labels by release (LayoutOptions::release);
///   other BraTS tasks (MEN, MET, PED, SSA) refused as not glioma; no table.
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
/// - msd: the Decathlon's Task01 from its dataset.json: 4-D images (Case::channels from its
///   `modality` names and `channels`), Decathlon labels; `test` entries become test cases.
/// - nnunet: an nnU-Net v2 or v1 raw dataset (`imagesTr/{case}_{XXXX}{file_ending}`, labelsTr,
///   imagesTs), channels from `channel_names` / `modality` and `channels`, the label convention
///   from its `labels` block.
/// - folder: any private layout, given by `patterns`; the table (optional) has a column `id` and
///   any of `idh`, `codeletion_1p19q`, `mgmt` (0/1), `grade` (2/3/4), `site`, `split`, `alias`,
///   or a published table's own columns through `id_column`, `columns` and `values`; empty
///   cells are unknown, an unknown column is an error.
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
