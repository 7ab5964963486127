#pragma once

#include <filesystem>
#include <map>
#include <string>

#include "data/manifest.h"

namespace fedglioma::data {

/// Labels per patient, keyed by the dataset's own patient id as its image folders name it.
using LabelTable = std::map<std::string, Labels>;

/// Every reader below maps each label spelling it knows explicitly (case-insensitively where the
/// published tables are inconsistent) and throws DataError naming the file, row and column for a
/// spelling it does not know: an unknown value never becomes a silent 0.

/// UCSF-PDGM `UCSF-PDGM-metadata_v2.csv`. Keys normalised to the folders' 4 digits
/// ("UCSF-PDGM-004" -> "UCSF-PDGM-0004"). IDH: wildtype -> 0, any mutation spelling ("mutated
/// (NOS)", "IDH1 p.R132H", "IDH2 p.R172K", ...) -> 1; 1p/19q: intact -> 0, co-deletion or
/// relative co-deletion -> 1; MGMT status: positive -> 1, negative -> 0, indeterminate ->
/// unknown; WHO CNS Grade 2/3/4; empty cells -> unknown.
LabelTable read_ucsf_pdgm_table(const std::filesystem::path& path);

/// UCSF-PDGM's crosswalk to BraTS 2021: "UCSF-PDGM-0004" -> "BraTS2021_00097" (filled rows only;
/// empty when the table has no `BraTS21 ID` column).
std::map<std::string, std::string> read_ucsf_pdgm_brats21_ids(const std::filesystem::path& path);

/// UPenn-GBM clinical table (v1.1 or v2.1 columns). Keys as in the table ("UPENN-GBM-00001_11").
/// IDH1: Wildtype -> 0, Mutated -> 1, NOS/NEC -> unknown; MGMT: Methylated -> 1, Unmethylated
/// -> 0, Indeterminate / Not Available -> unknown; grade 4 (all glioblastoma); 1p/19q unknown.
LabelTable read_upenn_gbm_table(const std::filesystem::path& path);

/// RSNA-MICCAI 2021 `train_labels.csv`: BraTS21ID (zero-padded to 5) -> "BraTS2021_NNNNN",
/// MGMT_value 1 -> methylated, 0 -> unmethylated; other labels unknown.
LabelTable read_rsna_mgmt_table(const std::filesystem::path& path);

/// FeTS challenge partition table (`partitioning_1.csv` / `partitioning_2.csv`):
/// "BraTS2021_NNNNN" -> "inst-<Partition_ID>".
std::map<std::string, std::string> read_fets_partitions(const std::filesystem::path& path);

/// TCGA GBM/LGG molecular table with a `Case_ID` column (the UCI "Mutations_all" file): IDH1
/// MUTATED -> 1, NOT_MUTATED -> 0; grade: GBM -> 4, LGG -> 3 when the diagnosis is anaplastic,
/// else 2 ("--" -> unknown); 1p/19q and MGMT unknown. Keys are TCGA barcodes ("TCGA-DU-7294").
LabelTable read_tcga_table(const std::filesystem::path& path);

/// EGD genetic/histological table with columns Subject, IDH, 1p19q, Grade (-1 = unknown);
/// keys as in the table ("EGD-0001").
LabelTable read_egd_table(const std::filesystem::path& path);

}  // namespace fedglioma::data
