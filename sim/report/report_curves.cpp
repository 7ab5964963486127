// Section 3 of the report: the per-round curves of rounds.jsonl.
#include "sim/report/markup.h"
#include "sim/report/report_cells.h"
#include "sim/report/report_sections.h"
#include "sim/report/svg_plot.h"

namespace fedglioma::sim {
namespace {

using nlohmann::json;

// The two pooled sets drawn per round, in legend order.
struct SetKey {
  const char* key;
  const char* title;
};
constexpr SetKey kCurveSets[] = {{"val", "validation"}, {"external", "external"}};

std::optional<double> bound(const json& interval, std::size_t i) {
  return interval.is_array() && interval.size() == 2 && interval[i].is_number()
             ? std::optional<double>(interval[i].get<double>())
             : std::nullopt;
}

// Where a round lies on the x axis: its number, or (hours) the virtual clock at its end in hours.
std::optional<double> x_of(const json& round, bool hours) {
  if (!hours) {
    const std::optional<int> number = round_number(round);
    return number ? std::optional<double>(*number) : std::nullopt;
  }
  const std::optional<double> clock = number_at(round, {"clock_seconds"});
  return clock ? std::optional<double>(*clock / 3600.0) : std::nullopt;
}

// A series over the evaluated rounds: `value` and `interval` of the set at `set` of each.
LineSeries eval_series(const RunFiles& run, const SetKey& set, std::initializer_list<const char*> value,
                       std::initializer_list<const char*> interval, bool hours = false) {
  LineSeries s;
  s.name = set.title;
  s.dashed = std::string(set.key) == "external";
  for (const json& r : run.rounds) {
    const json& summary = json_at(r, {"eval", set.key});
    const std::optional<double> x = x_of(r, hours);
    if (!summary.is_object() || !x) continue;
    s.x.push_back(*x);
    s.y.push_back(number_at(summary, value));
    const json& ci = json_at(summary, interval);
    s.lower.push_back(bound(ci, 0));
    s.upper.push_back(bound(ci, 1));
  }
  return s;
}

// The last evaluated round's object, or null.
const json& last_evaluated(const RunFiles& run) {
  static const json kNull = nullptr;
  for (auto it = run.rounds.rbegin(); it != run.rounds.rend(); ++it)
    if (json_at(*it, {"eval"}).is_object()) return *it;
  return kNull;
}

// "n = 8 validation, 4 external" (Dice), or the positives/negatives of `marker` (AUC).
std::string n_note(const RunFiles& run, const std::string& marker) {
  const json& last = last_evaluated(run);
  std::string note;
  for (const SetKey& set : kCurveSets) {
    const json& summary = json_at(last, {"eval", set.key});
    if (!summary.is_object()) continue;
    std::string n = fixed(number_at(summary, {"n"}), 0, "?");
    if (!marker.empty())
      n = fixed(number_at(summary, {"auc_n", marker.c_str(), "positive"}), 0, "?") + "+/" +
          fixed(number_at(summary, {"auc_n", marker.c_str(), "negative"}), 0, "?") + "\xE2\x88\x92";
    note += (note.empty() ? "" : ", ") + n + " " + set.title;
  }
  return note.empty() ? "" : (marker.empty() ? "n = " : "n+/n\xE2\x88\x92 = ") + note;
}

std::string in_parentheses(const std::string& note, const std::string& suffix) {
  return note.empty() ? "" : " (" + note + suffix + ")";
}

LineChart unit_chart(const RunFiles& run, const std::string& title, const std::string& y_label) {
  LineChart chart;
  chart.title = title;
  chart.y_label = y_label;
  chart.y_min = 0;
  chart.y_max = 1;
  const Selection s = run_selection(run);
  if (s.round && round_number(*s.round)) {
    chart.marker_x = *round_number(*s.round);
    chart.marker_label = "selected (round " + std::to_string(*round_number(*s.round)) + ")";
  }
  return chart;
}

// The mean over the round's clients of their training loss (clients left out have none).
LineChart loss_chart(const RunFiles& run) {
  LineChart chart;
  chart.title = "Training loss (mean over the round's clients)";
  chart.y_label = "loss";
  LineSeries s;
  s.name = "mean train_loss";
  for (const json& r : run.rounds) {
    const std::optional<int> number = round_number(r);
    if (!number) continue;
    double sum = 0;
    int n = 0;
    if (json_at(r, {"clients"}).is_array())
      for (const json& c : r["clients"])
        if (const auto loss = number_at(c, {"train_loss"})) sum += *loss, ++n;
    s.x.push_back(*number);
    s.y.push_back(n ? std::optional<double>(sum / n) : std::nullopt);
  }
  chart.series.push_back(s);
  return chart;
}

// Mean Dice against the virtual clock, when the run kept one (federation.simulated_time): empty
// otherwise.
std::string clock_figure(const RunFiles& run) {
  bool clocked = false;
  for (const json& r : run.rounds) clocked = clocked || number_at(r, {"clock_seconds"}).has_value();
  if (!clocked) return "";
  LineChart dice;
  dice.title = "Mean Dice against simulated time";
  dice.x_label = "simulated hours";
  dice.y_label = "mean Dice";
  dice.y_min = 0;
  dice.y_max = 1;
  for (const SetKey& set : kCurveSets)
    dice.series.push_back(eval_series(run, set, {"dice_mean"}, {"dice_mean_ci", "interval"}, true));
  return figure(line_chart_svg(dice), "mean Dice against simulated hours",
                "Mean Dice on the pooled validation cases and the external set against the virtual clock "
                "(clock_seconds: each round's, or asynchronous server step's, simulated end); shaded: 95 % bootstrap "
                "interval.");
}

}  // namespace

std::string round_curves_section(const RunFiles& run) {
  if (run.rounds.empty())
    return section("curves", "3. Per-round curves", absent_file_note(run, "rounds.jsonl", "rounds.jsonl: no rounds"));
  const std::string gaps = " A gap: no value that round (a diverged model, or a set without both classes).";
  LineChart dice = unit_chart(run, "Mean Dice (whole tumour)", "mean Dice");
  dice.note = n_note(run, "");
  for (const SetKey& set : kCurveSets)
    dice.series.push_back(eval_series(run, set, {"dice_mean"}, {"dice_mean_ci", "interval"}));
  std::string body =
      "<div class=\"grid\">\n" +
      figure(line_chart_svg(dice), "mean Dice per round",
             "Mean Dice of " + evaluated_models(run) + " on the pooled validation cases and the " + "external set" +
                 in_parentheses(dice.note, " cases") + "; shaded: 95 % bootstrap interval, clipped " +
                 "to [0, 1]; dashed vertical line: the selected round." + gaps);
  for (const std::string& marker : report_markers(run)) {
    LineChart auc = unit_chart(run, marker_title(marker) + " AUC", "AUC");
    auc.note = n_note(run, marker);
    for (const SetKey& set : kCurveSets)
      auc.series.push_back(eval_series(run, set, {"auc", marker.c_str()}, {"auc_ci", marker.c_str(), "delong"}));
    body += figure(line_chart_svg(auc), marker_title(marker) + " AUC per round",
                   marker_title(marker) + " AUC on the validation and external cases" + in_parentheses(auc.note, "") +
                       "; shaded: 95 % DeLong interval, clipped to [0, 1]." + gaps);
  }
  body += clock_figure(run);
  body += figure(line_chart_svg(loss_chart(run)), "training loss per round",
                 "Mean of the clients' local training loss (multi-task: segmentation plus markers); clients that "
                 "dropped out or failed are left out of the mean.");
  return section("curves", "3. Per-round curves", body + "</div>\n");
}

}  // namespace fedglioma::sim
