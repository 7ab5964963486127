// Section 6 of the report: ROC curves (roc.csv) and reliability diagrams (calibration.csv).
#include <map>
#include <tuple>

#include "sim/report/markup.h"
#include "sim/report/report_cells.h"
#include "sim/report/report_sections.h"
#include "sim/report/svg_plot.h"

namespace fedglioma::sim {
namespace {

// One curve of a table: its points in order, and the numbers on its rows.
struct TableCurve {
  std::string round;
  std::vector<double> x, y;
  std::vector<long> counts;
  std::map<std::string, std::optional<double>> numbers;  ///< auc, brier, ece, n_positive, ...
};

// (model, predictor, split, marker) -> the curve of site `all` (every case of the split pooled).
// The predictor is `global`, or the client whose own model it is (personal-model strategies).
using CurveKey = std::tuple<std::string, std::string, std::string, std::string>;
using Curves = std::map<CurveKey, TableCurve>;

std::string cell_of(const data::CsvTable& table, const std::vector<std::string>& row, const std::string& column,
                    const std::string& otherwise = "") {
  return table.has_column(column) ? row[table.column(column)] : otherwise;
}

// The pooled curves of roc.csv or calibration.csv: `x`, `y` (and `count`) columns per point.
Curves read_curves(const data::CsvTable& table, const std::string& x, const std::string& y, const std::string& count,
                   const std::vector<std::string>& numbers) {
  Curves curves;
  for (const std::string& column : {std::string("model"), std::string("split"), std::string("marker"), x, y})
    if (!table.has_column(column)) return curves;
  for (const auto& row : table.rows()) {
    if (cell_of(table, row, "site", "all") != "all") continue;
    const auto px = cell_number(row[table.column(x)]), py = cell_number(row[table.column(y)]);
    if (!px || !py) continue;
    TableCurve& c = curves[{row[table.column("model")], cell_of(table, row, "predictor", "global"),
                            row[table.column("split")], row[table.column("marker")]}];
    c.round = cell_of(table, row, "round");
    c.x.push_back(*px);
    c.y.push_back(*py);
    if (!count.empty()) c.counts.push_back(static_cast<long>(cell_number(cell_of(table, row, count)).value_or(0)));
    for (const std::string& name : numbers) c.numbers[name] = cell_number(cell_of(table, row, name));
  }
  return curves;
}

std::optional<double> number_of(const TableCurve& c, const std::string& key) {
  const auto it = c.numbers.find(key);
  return it == c.numbers.end() ? std::nullopt : it->second;
}

// What a legend entry says about a curve: "AUC 0.812", "Brier 0.182, ECE 0.071".
using Describe = std::string (*)(const TableCurve&);

std::string describe_roc(const TableCurve& c) { return "AUC " + fixed(number_of(c, "auc"), 3); }

std::string describe_calibration(const TableCurve& c) {
  return "Brier " + fixed(number_of(c, "brier"), 3) + ", ECE " + fixed(number_of(c, "ece"), 3);
}

// The curves of one split and marker, in legend order: the global model's, selected then final
// (one curve when they are the same round); without a global model, the selected round's curve of
// each site's own model.
std::vector<std::pair<std::string, const TableCurve*>> plot_curves(const Curves& curves, const std::string& split,
                                                                   const std::string& marker) {
  std::vector<std::pair<std::string, const TableCurve*>> out;
  const auto selected = curves.find({"selected", "global", split, marker});
  const auto final_one = curves.find({"final", "global", split, marker});
  if (selected != curves.end() || final_one != curves.end()) {
    const bool same =
        selected != curves.end() && final_one != curves.end() && selected->second.round == final_one->second.round;
    if (selected != curves.end()) out.emplace_back(same ? "selected = final" : "selected", &selected->second);
    if (final_one != curves.end() && !same) out.emplace_back("final", &final_one->second);
    return out;
  }
  for (const auto& [key, curve] : curves)
    if (std::get<0>(key) == "selected" && std::get<2>(key) == split && std::get<3>(key) == marker)
      out.emplace_back(std::get<1>(key) + "'s own", &curve);
  return out;
}

std::vector<Curve> model_curves(const Curves& curves, const std::string& split, const std::string& marker,
                                Describe describe, bool markers) {
  std::vector<Curve> out;
  for (const auto& [model, c] : plot_curves(curves, split, marker))
    out.push_back(
        {model + " (round " + c->round + "): " + describe(*c), c->x, c->y, c->counts, model == "final", markers});
  return out;
}

std::string roc_note(const Curves& curves, const std::string& split, const std::string& marker) {
  const auto shown = plot_curves(curves, split, marker);
  if (shown.empty()) return "no curve: one class only, or no labelled cases";
  const TableCurve& c = *shown.front().second;
  return "n+ = " + fixed(number_of(c, "n_positive"), 0, "?") +
         ", n\xE2\x88\x92 = " + fixed(number_of(c, "n_negative"), 0, "?");
}

std::string calibration_note(const Curves& curves, const std::string& split, const std::string& marker) {
  const auto shown = plot_curves(curves, split, marker);
  if (shown.empty()) return "no curve: no labelled cases";
  long n = 0;
  for (const long c : shown.front().second->counts) n += c;
  return "n = " + std::to_string(n) + " in " + std::to_string(shown.front().second->counts.size()) + " non-empty bins";
}

std::string split_title(const std::string& split) { return split == "val" ? "validation" : split; }

}  // namespace

std::string roc_section(const RunFiles& run) {
  const std::string title = "6. ROC curves and calibration";
  std::string notes;
  if (!run.roc) notes += absent_file_note(run, "roc.csv", "");
  if (!run.calibration) notes += absent_file_note(run, "calibration.csv", "");
  if (!run.roc && !run.calibration) return section("roc", title, notes);
  const Curves roc = run.roc ? read_curves(*run.roc, "fpr", "tpr", "", {"auc", "n_positive", "n_negative"}) : Curves{};
  const Curves calibration =
      run.calibration ? read_curves(*run.calibration, "mean_predicted", "fraction_positive", "n", {"brier", "ece"})
                      : Curves{};
  std::string body = notes;
  for (const std::string& marker : report_markers(run)) {
    const std::string name = marker_title(marker);
    body += "<h3>" + escape_xml(name) + "</h3>\n<div class=\"grid grid4\">\n";
    for (const char* split : {"val", "external"})
      if (run.roc)
        body += figure(
            curve_plot_svg({name + " ROC, " + split_title(split), roc_note(roc, split, marker), "false-positive rate",
                            "true-positive rate", model_curves(roc, split, marker, describe_roc, false)}),
            name + " ROC " + split, "ROC, " + split_title(split) + " cases; dashed diagonal: chance.");
    for (const char* split : {"val", "external"})
      if (run.calibration)
        body += figure(
            curve_plot_svg({name + " reliability, " + split_title(split), calibration_note(calibration, split, marker),
                            "mean predicted probability", "fraction positive",
                            model_curves(calibration, split, marker, describe_calibration, true)}),
            name + " reliability " + split,
            "Reliability, " + split_title(split) +
                " cases, 10 equal-width bins (empty ones left out); "
                "the numbers are each bin's cases; diagonal: perfect calibration.");
    body += "</div>\n";
  }
  return section("roc", title, body);
}

}  // namespace fedglioma::sim
