#include <nlohmann/json.hpp>

#include "sim/report/markup.h"
#include "sim/report/report_cells.h"
#include "sim/report/report_sections.h"

namespace fedglioma::sim {

namespace {

using nlohmann::json;

// The per-region keys of an evaluated set (sim/eval/set_metrics.cpp), whole tumour first.
constexpr const char* kDice[3] = {"dice_median", "dice_tc_median", "dice_et_median"};
constexpr const char* kHd95[3] = {"hd95_median", "hd95_tc_median", "hd95_et_median"};

std::string region_row(const std::string& title, const json& set) {
  std::string row = "<tr><td>" + escape_xml(title) + "</td>";
  for (const char* key : kDice) row += "<td class=\"num\">" + fixed(number_at(set, {key}), 3) + "</td>";
  for (const char* key : kHd95) row += "<td class=\"num\">" + fixed(number_at(set, {key}), 1) + "</td>";
  return row + "</tr>\n";
}

}  // namespace

std::string region_table(const json& round) {
  std::string rows;
  for (const auto& [key, title] : {std::pair{"val", "validation"}, {"external", "external"}, {"test", "test"}}) {
    const json& set = json_at(round, {"eval", key});
    if (set.is_object() && number_at(set, {"dice_tc_median"})) rows += region_row(title, set);
  }
  if (rows.empty()) return "";
  return "<h3>BraTS regions (selected model)</h3>\n<table>\n<thead><tr><th>Set</th><th>Median Dice WT</th><th>TC</th>"
         "<th>ET</th><th>Median HD95 WT (mm)</th><th>TC</th><th>ET</th></tr></thead>\n<tbody>\n" +
         rows +
         "</tbody></table>\n<p class=\"note\">Whole tumour (WT), tumour core (TC) and enhancing tumour (ET), "
         "model.segmentation \"brats_regions\"; TC and ET over the cases whose masks have sub-regions.</p>\n";
}

}  // namespace fedglioma::sim
