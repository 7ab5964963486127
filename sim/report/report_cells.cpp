#include "sim/report/report_cells.h"

#include <algorithm>

#include "core/markers.h"
#include "sim/report/markup.h"

namespace fedglioma::sim {
namespace {

using nlohmann::json;

// "[0.701, 0.903]" for a two-number array, or "".
std::string interval_text(const json& interval) {
  if (!interval.is_array() || interval.size() != 2 || !interval[0].is_number() || !interval[1].is_number()) return "";
  return "[" + fixed(interval[0].get<double>(), 3) + ", " + fixed(interval[1].get<double>(), 3) + "]";
}

std::optional<double> number(const json& v) {
  return v.is_number() ? std::optional<double>(v.get<double>()) : std::nullopt;
}

// Adds the markers that `set` has an AUC for to `seen`, keeping their first order.
void collect_markers(const json& set, std::vector<std::string>& seen) {
  const json& auc = json_at(set, {"auc"});
  if (!auc.is_object()) return;
  for (const auto& item : auc.items())
    if (std::find(seen.begin(), seen.end(), item.key()) == seen.end()) seen.push_back(item.key());
}

}  // namespace

std::vector<std::string> report_markers(const RunFiles& run) {
  std::vector<std::string> seen;
  for (const json& r : run.rounds)
    for (const char* set : {"val", "external", "test"}) collect_markers(json_at(r, {"eval", set}), seen);
  for (const char* which : {"final", "selected"})
    for (const char* set : {"val", "external", "test"})
      collect_markers(json_at(run.summary, {which, "eval", set}), seen);
  std::vector<std::string> out;
  for (const char* m : kMarkers)
    if (seen.empty() || std::find(seen.begin(), seen.end(), m) != seen.end()) out.push_back(m);
  for (const std::string& m : seen)
    if (std::find(out.begin(), out.end(), m) == out.end()) out.push_back(m);
  return out;
}

std::string marker_title(const std::string& marker) {
  if (marker == "idh") return "IDH";
  if (marker == "codeletion_1p19q") return "1p/19q";
  if (marker == "mgmt") return "MGMT";
  if (marker == "grade") return "Grade";
  return marker;
}

std::string evaluated_models(const RunFiles& run) {
  return text_at(run.config, {"federation", "mode"}) == "local" ? "the sites' local models" : "the global model";
}

std::optional<int> round_number(const json& round) {
  const std::optional<double> r = number_at(round, {"round"});
  return r ? std::optional<int>(static_cast<int>(*r)) : std::nullopt;
}

const json& full_round(const RunFiles& run, const json& round) {
  const std::optional<int> number = round_number(round);
  if (json_at(round, {"eval"}).is_object() || !number || round_object(run, *number).is_null()) return round;
  return round_object(run, *number);
}

Selection run_selection(const RunFiles& run) {
  Selection s;
  const json& selected = json_at(run.summary, {"selected"});
  if (selected.is_object()) {
    s.round = &selected;
    s.rule = text_at(selected, {"rule"});
    s.score = number_at(selected, {"score"});
    s.reason = text_at(selected, {"reason"});
  } else if (json_at(run.summary, {"best"}).is_object()) {  // a run from before `selected`
    s.round = &json_at(run.summary, {"best"});
    s.rule = "best " + text_at(run.summary, {"best_by"});
  }
  if (s.round) s.round = &full_round(run, *s.round);
  return s;
}

std::string value_cell(const json& value, const json& interval, const std::string& why_none, const std::string& extra) {
  std::string cell = "<td class=\"num\">" + escape_xml(fixed(number(value), 3));
  const std::string ci = interval_text(interval);
  if (!ci.empty())
    cell += "<span class=\"sub\">" + ci + "</span>";
  else if (number(value))
    cell += "<span class=\"sub\">no interval" + (why_none.empty() ? "" : ": " + escape_xml(why_none)) + "</span>";
  if (!extra.empty()) cell += "<span class=\"sub\">" + escape_xml(extra) + "</span>";
  return cell + "</td>";
}

std::string set_cells(const json& set, const std::vector<std::string>& markers) {
  const std::string n = fixed(number_at(set, {"n"}), 0);
  if (text_at(set, {"status"}) == "diverged")
    return "<td class=\"num\">" + n + "</td><td colspan=\"" + std::to_string(markers.size() + 1) +
           "\" class=\"diverged\">diverged: " + escape_xml(text_at(set, {"reason"})) + "</td>";
  std::string cells = "<td class=\"num\">" + n + "</td>";
  cells += value_cell(json_at(set, {"dice_mean"}), json_at(set, {"dice_mean_ci", "interval"}),
                      text_at(set, {"dice_mean_ci", "reason"}));
  for (const std::string& m : markers) {
    const char* key = m.c_str();
    const json& counts = json_at(set, {"auc_n", key});
    std::string n_text;
    if (counts.is_object())
      n_text = fixed(number_at(counts, {"positive"}), 0, "?") + "+ / " +
               fixed(number_at(counts, {"negative"}), 0, "?") + "\xE2\x88\x92";
    cells += value_cell(json_at(set, {"auc", key}), json_at(set, {"auc_ci", key, "delong"}),
                        text_at(set, {"auc_ci", key, "reason"}), n_text);
  }
  return cells;
}

std::string set_header_cells(const std::vector<std::string>& markers) {
  std::string cells = "<th>n</th><th>Mean Dice<span class=\"sub\">95 % CI (bootstrap)</span></th>";
  for (const std::string& m : markers)
    cells +=
        "<th>" + escape_xml(marker_title(m)) + " AUC<span class=\"sub\">95 % CI (DeLong), n+/n\xE2\x88\x92</span></th>";
  return cells;
}

std::string absent_note(const std::string& text) { return "<p class=\"absent\">" + escape_xml(text) + "</p>\n"; }

std::string absent_file_note(const RunFiles& run, const std::string& file, const std::string& otherwise) {
  const auto it = run.absent.find(file);
  return absent_note(it == run.absent.end() ? otherwise : it->second);
}

std::string section(const std::string& id, const std::string& title, const std::string& body) {
  return "<section id=\"" + id + "\">\n<h2>" + escape_xml(title) + "</h2>\n" + body + "</section>\n";
}

std::string figure(const std::string& svg, const std::string& alt, const std::string& caption) {
  return "<figure>" + svg_img(svg, alt) + "<figcaption>" + escape_xml(caption) + "</figcaption></figure>\n";
}

}  // namespace fedglioma::sim
