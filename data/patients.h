#pragma once

#include <map>
#include <string>
#include <utility>
#include <vector>

#include "data/manifest.h"

namespace fedglioma::data {

/// One patient found in several records while merging.
struct MergedPatient {
  std::string kept;                    ///< the id of the record kept
  std::vector<std::string> dropped;    ///< ids of the records folded into it
  std::vector<std::string> conflicts;  ///< labels or splits the records disagreed on (the kept value stays)
};

/// What merge_manifests did.
struct MergeReport {
  std::size_t cases_in = 0;
  std::size_t cases_out = 0;
  std::vector<MergedPatient> merged;
};

/// Joins manifests into one. Records are the same patient when they share an id or an alias
/// (directly or through a chain), or when `crosswalk` pairs their ids. Of each patient the
/// first record in input order is kept (list the dataset whose images and masks you prefer
/// first); it gains the labels it lacks from the others, a mask when it has none, and all their
/// ids as aliases. A label known with different values, or a different split, is a conflict: the
/// kept value stays and the report names it.
Manifest merge_manifests(const std::vector<Manifest>& inputs,
                         const std::vector<std::pair<std::string, std::string>>& crosswalk, MergeReport* report);

/// A crosswalk: ids that name one patient in different datasets, and the institution each
/// patient came from where the table says.
struct Crosswalk {
  std::vector<std::pair<std::string, std::string>> pairs;  ///< two ids of one patient
  std::map<std::string, std::string> sites;                 ///< id -> "site-<N>" (the table's site number)
};

/// Reads a crosswalk table. The official BraTS mapping tables (`BraTS21-17_Mapping.csv`, and the
/// CSV export of the 2023 `.xlsx`) are recognised by their `BraTS20NN` columns: every id of a
/// row (each BraTS20NN column and `Local ID`) is one patient, `N/A` and empty cells are no id, a
/// header's stray spaces (the real file ends one in a no-break space) are ignored, and the
/// "Site No" column gives each of the row's ids its site. Any other CSV pairs its first two
/// columns (any header; empty cells skipped). Throws DataError naming the file and row.
Crosswalk read_crosswalk(const std::filesystem::path& path);

/// Throws ConfigError when a patient of the external or test split is also among the training
/// or validation cases, naming both cases: such a run would leak. Two records are the same patient
/// when they share an id or an alias, or an image or mask file: the same file (after resolving
/// links and `..`) or files with identical contents (files of equal size are hashed). Files that
/// cannot be read are left to the loader, which names them.
void check_patient_leakage(const Manifest& manifest);

}  // namespace fedglioma::data
