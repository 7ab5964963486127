#pragma once

#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "sim/report/run_files.h"

namespace fedglioma::sim {

/// The markers the run's sets report an AUC for, in core/markers.h's order (all four when no set
/// says).
std::vector<std::string> report_markers(const RunFiles& run);

/// A marker's name as a reader knows it: "IDH", "1p/19q", "MGMT", "Grade"; others as they are.
std::string marker_title(const std::string& marker);

/// Whose predictions the pooled and per-site sets hold: "the global model", or in local mode
/// (no global model) "the sites' local models".
std::string evaluated_models(const RunFiles& run);

/// The model the run reports (summary.json `selected`, or `best` from runs before it), the round
/// object it names and what chose it.
struct Selection {
  const nlohmann::json* round = nullptr;  ///< a rounds.jsonl object, or null when the run has none
  std::string rule;                       ///< "val.dice_mean", "final", ...
  std::optional<double> score;
  std::string reason;  ///< why the rule is what it is (no validation cases), when given
};
Selection run_selection(const RunFiles& run);

/// The round number of a round object, or none.
std::optional<int> round_number(const nlohmann::json& round);

/// `round` (a copy in summary.json), or its rounds.jsonl line when the copy has no evaluation.
const nlohmann::json& full_round(const RunFiles& run, const nlohmann::json& round);

/// A table cell (`<td class="num">`) with `value` (3 decimals) and, under it, its 95 % interval or
/// why there is none; `extra` is a further line (n+/n-). Everything is escaped.
std::string value_cell(const nlohmann::json& value, const nlohmann::json& interval, const std::string& why_none,
                       const std::string& extra = "");

/// The cells of one evaluated set (SET in docs/files.md): n, mean Dice with its bootstrap interval,
/// and each marker's AUC with its DeLong interval and n+/n-. A diverged set is one cell saying so.
std::string set_cells(const nlohmann::json& set, const std::vector<std::string>& markers);

/// The header cells matching set_cells: n, Mean Dice, one per marker.
std::string set_header_cells(const std::vector<std::string>& markers);

/// A `<p class="absent">` line for `text` (escaped): what a section cannot show, and why.
std::string absent_note(const std::string& text);

/// absent_note of why `file` is absent (RunFiles::absent), or of `otherwise` when it is there.
std::string absent_file_note(const RunFiles& run, const std::string& file, const std::string& otherwise);

/// `<section id="ID"><h2>TITLE</h2>BODY</section>`; the title is escaped, the body is markup.
std::string section(const std::string& id, const std::string& title, const std::string& body);

/// `<figure>` holding the SVG `svg` as an image, with an escaped caption.
std::string figure(const std::string& svg, const std::string& alt, const std::string& caption);

}  // namespace fedglioma::sim
