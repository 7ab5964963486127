// Section 4 of the report: the sites at the selected round, fairness, the sites' own models and
// the selected model's worst cases.
#include <algorithm>

#include "sim/report/markup.h"
#include "sim/report/report_cells.h"
#include "sim/report/report_sections.h"

namespace fedglioma::sim {
namespace {

using nlohmann::json;

std::string site_table(const json& sites, const std::vector<std::string>& markers) {
  std::string rows;
  for (const auto& item : sites.items())
    rows += "<tr><td>" + escape_xml(item.key()) + "</td>" + set_cells(item.value(), markers) + "</tr>\n";
  return "<table>\n<thead><tr><th>Site</th>" + set_header_cells(markers) + "</tr></thead>\n<tbody>\n" + rows +
         "</tbody></table>\n";
}

std::string spread_row(const std::string& metric, const json& spread) {
  std::string row = "<tr><td>" + escape_xml(metric) + "</td>";
  for (const char* key : {"worst", "best", "sd"})
    row += "<td class=\"num\">" + fixed(number_at(spread, {key}), 3) + "</td>";
  for (const char* key : {"sites", "undefined"})
    row += "<td class=\"num\">" + fixed(number_at(spread, {key}), 0) + "</td>";
  return row + "</tr>\n";
}

// The spread across sites (eval.fairness.sites or .personal) of mean Dice and each AUC.
std::string fairness_table(const json& fairness, const std::vector<std::string>& markers) {
  std::string rows = spread_row("Mean Dice", json_at(fairness, {"dice_mean"}));
  for (const std::string& m : markers)
    rows += spread_row(marker_title(m) + " AUC", json_at(fairness, {"auc", m.c_str()}));
  return "<table>\n<thead><tr><th>Metric</th><th>Worst site</th><th>Best site</th><th>SD across sites</th>"
         "<th>Sites</th><th>Undefined<span class=\"sub\">no value at that site</span></th></tr></thead>\n<tbody>\n" +
         rows + "</tbody></table>\n";
}

std::string personal_table(const json& personal, const std::vector<std::string>& markers) {
  std::string rows;
  for (const auto& item : personal.items()) {
    const std::string client = "<td rowspan=\"2\">" + escape_xml(item.key()) + "</td>";
    rows +=
        "<tr>" + client + "<td>own validation</td>" + set_cells(json_at(item.value(), {"val"}), markers) + "</tr>\n";
    rows += "<tr><td>external</td>" + set_cells(json_at(item.value(), {"external"}), markers) + "</tr>\n";
  }
  return "<table>\n<thead><tr><th>Client</th><th>Set</th>" + set_header_cells(markers) + "</tr></thead>\n<tbody>\n" +
         rows + "</tbody></table>\n";
}

// The selected model's rows of cases.csv (all rows of a table without a model column).
std::vector<const std::vector<std::string>*> selected_cases(const data::CsvTable& cases) {
  std::vector<const std::vector<std::string>*> rows;
  const bool by_model = cases.has_column("model");
  const std::size_t model = by_model ? cases.column("model") : 0;
  for (const auto& row : cases.rows())
    if (!by_model || row[model] == "selected") rows.push_back(&row);
  return rows;
}

// The ten cases of the selected model with the lowest Dice.
std::string worst_cases(const RunFiles& run) {
  if (!run.cases) return absent_file_note(run, "cases.csv", "");
  const data::CsvTable& cases = *run.cases;
  if (!cases.has_column("dice")) return absent_note("cases.csv: has no dice column");
  const std::size_t dice = cases.column("dice");
  std::vector<const std::vector<std::string>*> rows;
  for (const auto* row : selected_cases(cases))
    if (cell_number((*row)[dice])) rows.push_back(row);
  std::stable_sort(rows.begin(), rows.end(),
                   [&](const auto* a, const auto* b) { return *cell_number((*a)[dice]) < *cell_number((*b)[dice]); });
  if (rows.size() > 10) rows.resize(10);
  if (rows.empty()) return absent_note("cases.csv: no case of the selected model has a Dice");
  const std::vector<std::pair<std::string, std::string>> columns = {{"case_id", "Case"},
                                                                    {"site", "Site"},
                                                                    {"split", "Split"},
                                                                    {"predictor", "Predictor"},
                                                                    {"dice", "Dice"},
                                                                    {"hd95", "HD95 (mm)"},
                                                                    {"volume_pred_ml", "Predicted volume (ml)"},
                                                                    {"volume_ref_ml", "Reference volume (ml)"}};
  std::string head, body;
  for (const auto& [name, title] : columns)
    if (cases.has_column(name)) head += "<th>" + title + "</th>";
  for (const auto* row : rows) {
    body += "<tr>";
    for (const auto& [name, title] : columns) {
      if (!cases.has_column(name)) continue;
      const std::string& cell = (*row)[cases.column(name)];
      const std::optional<double> v = cell_number(cell);
      body += v && name != "case_id" && name != "site"
                  ? "<td class=\"num\">" + fixed(v, name == "dice" ? 3 : 1) + "</td>"
                  : "<td>" + escape_xml(cell.empty() ? "\xE2\x80\x93" : cell) + "</td>";
    }
    body += "</tr>\n";
  }
  return "<table>\n<thead><tr>" + head + "</tr></thead>\n<tbody>\n" + body + "</tbody></table>\n";
}

}  // namespace

std::string sites_section(const RunFiles& run) {
  const Selection s = run_selection(run);
  static const json kNone = nullptr;
  const json& eval = s.round ? json_at(*s.round, {"eval"}) : kNone;
  const std::string title = "4. Sites at the selected round";
  if (!eval.is_object())
    return section("sites", title, absent_note("summary.json: no selected round with an evaluation"));
  const std::vector<std::string> markers = report_markers(run);
  std::string body = "<p>Round " + escape_xml(text_at(*s.round, {"round"})) + ": " + evaluated_models(run) +
                     " on each site's validation cases.</p>\n";
  const json& sites = json_at(eval, {"sites"});
  body += sites.is_object() && !sites.empty() ? site_table(sites, markers)
                                              : absent_note("rounds.jsonl: no per-site evaluation at this round");
  body += "<h3>Fairness across sites</h3>\n";
  const json& fairness = json_at(eval, {"fairness", "sites"});
  body += fairness.is_object() ? fairness_table(fairness, markers)
                               : absent_note("rounds.jsonl: no fairness summary at this round");
  const json& personal = json_at(eval, {"personal"});
  if (personal.is_object() && !personal.empty()) {
    body += "<h3>The sites' own models</h3>\n" + personal_table(personal, markers);
    const json& own_fairness = json_at(eval, {"fairness", "personal"});
    if (own_fairness.is_object())
      body += "<p>Spread across the sites' own models:</p>\n" + fairness_table(own_fairness, markers);
  }
  body += "<h3>Worst cases of the selected model</h3>\n" + worst_cases(run);
  return section("sites", title, body);
}

}  // namespace fedglioma::sim
