#pragma once

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "sim/record/reporters.h"
#include "sim/record/selection.h"

namespace fedglioma::sim {

/// The run folder's per-case and per-curve tables, for the selected and the final model, built
/// from what the run wrote: predictions.csv (the final evaluation) and selected/predictions.csv
/// (the selected round's, written when that round was chosen; predictions.csv when the final
/// round is the selected one or stands in for it). Columns (docs/files.md):
/// - roc.csv: model (`selected` | `final`), round, predictor (`global` or the client whose own
///   model it is), split (`external`, `val`, `test`), site (`all`, pooled, or one site), marker,
///   n_positive, n_negative, auc, then one row per point: threshold (`inf` first), fpr, tpr
///   (core/curves.h's roc_curve, every point kept);
/// - calibration.csv: model, round, predictor, split, site, marker, bin, bin_lower, bin_upper, n,
///   mean_predicted, fraction_positive, brier, ece (10 uniform bins, empty ones left out);
/// - cases.csv: model, round, predictor, case_id, site, split, dice, hd95, volume_pred_ml,
///   volume_ref_ml, p_<marker>..., y_<marker>... (empty: not defined for the case).
/// A (split, site, marker) with one class has no ROC rows; one without labelled cases no
/// calibration rows.
struct OutcomeTables {
  std::string roc_csv, calibration_csv, cases_csv;
};

/// The tables from the two predictions files' text as read (CSV with predictions.csv's header)
/// and the rounds they hold. Throws DataError naming a file whose columns are not predictions.csv's.
OutcomeTables outcome_tables(const std::filesystem::path& selected_predictions, int selected_round,
                             const std::filesystem::path& final_predictions, int final_round);

/// At finish: writes roc.csv, calibration.csv and cases.csv into `run_dir` for the rounds `rule`
/// selects and the final one (nothing when no round was evaluated).
std::unique_ptr<Reporter> outcome_tables_reporter(std::filesystem::path run_dir, SelectionRule rule);

/// The folder of the selected round's files (predictions.csv, model.pt, model-<client>.pt).
inline std::filesystem::path selected_dir(const std::filesystem::path& run_dir) { return run_dir / "selected"; }

}  // namespace fedglioma::sim
