#pragma once

#include <string>

#include <nlohmann/json_fwd.hpp>

#include "sim/report/run_files.h"

namespace fedglioma::sim {

// The sections of report.html, in page order, each a <section> of HTML made from the run's files
// (report_html.cpp puts them together). Every text taken from a file is escaped; a section whose
// file the run did not write says so in one line.

/// 1. The run: strategy, mode, rounds, seed, clients, identities, numerics and warnings.
std::string run_section(const RunFiles& run);
/// 2. The selected model against the final one, on every evaluated set.
std::string selection_section(const RunFiles& run);
/// Within 2.: the selected model's median Dice and HD95 per BraTS region (whole tumour, core,
/// enhancing) on each set, for a brats_regions run; "" for a whole-tumour run.
std::string region_table(const nlohmann::json& round);
/// 3. Per-round curves: mean Dice, each marker's AUC (with their intervals), training loss.
std::string round_curves_section(const RunFiles& run);
/// 4. Per-site metrics at the selected round, fairness across sites, the sites' own models, and
/// the selected model's worst cases.
std::string sites_section(const RunFiles& run);
/// 5. The cross-site matrix: each site's own model on each site's validation cases.
std::string cross_site_section(const RunFiles& run);
/// 6. ROC curves and reliability diagrams per marker, selected and final model.
std::string roc_section(const RunFiles& run);
/// 7. Wall time, memory and per-round seconds.
std::string timing_section(const RunFiles& run);
/// 8. How to make this page again.
std::string regenerate_section(const RunFiles& run);

}  // namespace fedglioma::sim
