#pragma once

#include <nlohmann/json_fwd.hpp>

#include <optional>

#include "sim/eval/evaluation.h"
#include "sim/eval/round_eval.h"

namespace fedglioma::sim {

/// The JSON form of evaluation results, written into rounds.jsonl, summary.json and
/// evaluation.json, and read back (resume, sweep): the one place the "eval" blocks' keys live
/// (docs/files.md describes them).

/// One set's block: n, Dice (mean with its bootstrap interval, median), the table's metrics
/// (hd95_median, ...), per marker the AUC with n positive / negative, its DeLong and bootstrap
/// intervals (or the reason there are none), Brier and ECE, and the rates at 0.5, at the set's
/// own Youden threshold and at the validation cases' threshold; 3-class grade when predicted;
/// "status": "diverged" with its "reason" when the model diverged.
nlohmann::json eval_json(const EvalSummary& summary);

/// Reads a block back. Keys added after a file was written (intervals' reasons, calibration)
/// read as absent. Throws nlohmann::json::exception on a malformed block.
EvalSummary eval_from(const nlohmann::json& block);

/// A round's "eval" block: external, val, test (when present), sites, personal, fairness.
nlohmann::json round_eval_json(const RoundEval& eval);
RoundEval round_eval_from(const nlohmann::json& block);

/// JSON helpers shared by the record formats: an optional number as a number or null.
nlohmann::json optional_json(const std::optional<double>& value);
std::optional<double> optional_from(const nlohmann::json& value);

}  // namespace fedglioma::sim
