// Sections 1, 2, 7 and 8 of the report: the run, the selected model, timing, how to regenerate.
#include <cmath>
#include <set>

#include "sim/report/markup.h"
#include "sim/report/report_cells.h"
#include "sim/report/report_sections.h"
#include "sim/report/svg_plot.h"

namespace fedglioma::sim {
namespace {

using nlohmann::json;

std::string fact(const std::string& key, const std::string& value_markup) {
  return "<tr><th>" + escape_xml(key) + "</th><td>" + value_markup + "</td></tr>\n";
}

std::string or_unknown(const std::string& text) { return text.empty() ? "not recorded" : text; }

// "fedprox (mu = 0.01)": the strategy's name and its other settings.
std::string strategy_text(const json& config) {
  const json& strategy = json_at(config, {"federation", "strategy"});
  std::string params;
  if (strategy.is_object())
    for (const auto& item : strategy.items())
      if (item.key() != "name")
        params += (params.empty() ? "" : ", ") + item.key() + " = " +
                  (item.value().is_string() ? item.value().get<std::string>() : item.value().dump());
  const std::string name = or_unknown(text_at(config, {"federation", "strategy", "name"}));
  return params.empty() ? name : name + " (" + params + ")";
}

// The clients: partitions.json's, else those rounds.jsonl names.
std::vector<std::string> client_ids(const RunFiles& run) {
  std::vector<std::string> ids;
  std::set<std::string> seen;
  auto add = [&](const json& c) {
    const std::string id = text_at(c, {"id"});
    if (!id.empty() && seen.insert(id).second) ids.push_back(id);
  };
  const json& listed = json_at(run.partitions, {"clients"});
  if (listed.is_array())
    for (const json& c : listed) add(c);
  for (const json& r : run.rounds)
    if (json_at(r, {"clients"}).is_array())
      for (const json& c : r["clients"]) add(c);
  return ids;
}

std::string clients_text(const RunFiles& run) {
  const std::vector<std::string> ids = client_ids(run);
  std::string names;
  for (std::size_t i = 0; i < ids.size() && i < 12; ++i) names += (i ? ", " : "") + ids[i];
  if (ids.size() > 12) names += ", \xE2\x80\xA6";
  std::string text = std::to_string(ids.size()) + (names.empty() ? "" : " (" + names + ")");
  const std::string scheme = text_at(run.config, {"partition", "scheme"});
  if (!scheme.empty()) text += "; partition " + scheme;
  const std::string per_round = text_at(run.config, {"federation", "clients_per_round"});
  if (!per_round.empty()) text += "; per round " + per_round;
  return text;
}

std::string identity_markup(const RunFiles& run, const char* which) {
  const std::string hex = text_at(run.summary, {"identity", which});
  return hex.empty() ? "<span class=\"absent\">not recorded in summary.json</span>"
                     : "<code>" + escape_xml(hex) + "</code>";
}

std::string numerics_table(const json& numerics) {
  if (!numerics.is_object() || numerics.empty()) return absent_note("summary.json: no numerics recorded");
  std::string rows;
  for (const auto& item : numerics.items())
    rows +=
        fact(item.key(), escape_xml(item.value().is_string() ? item.value().get<std::string>() : item.value().dump()));
  return "<table class=\"facts\">\n" + rows + "</table>\n";
}

std::string warnings_list(const json& warnings) {
  if (!warnings.is_array() || warnings.empty()) return "<p>None.</p>\n";
  std::string items;
  for (const json& w : warnings)
    items += "<li>" + escape_xml(w.is_string() ? w.get<std::string>() : w.dump()) + "</li>\n";
  return "<ul class=\"warnings\">\n" + items + "</ul>\n";
}

std::string rounds_text(const RunFiles& run) {
  const std::string done = text_at(run.summary, {"rounds"});
  const std::string planned = text_at(run.config, {"federation", "rounds"});
  if (planned.empty() || planned == done) return or_unknown(done);
  return or_unknown(done) + " of " + planned + " configured";
}

// One model's rows of the selection table: a row per evaluated set, the model named once.
std::string model_rows(const std::string& model, const json& round, const std::vector<std::string>& markers) {
  std::vector<std::pair<std::string, const json*>> sets;
  for (const auto& [key, title] : {std::pair{"val", "validation"}, {"external", "external"}, {"test", "test"}})
    if (json_at(round, {"eval", key}).is_object()) sets.emplace_back(title, &round["eval"][key]);
  const std::string head = "<td rowspan=\"" + std::to_string(std::max<std::size_t>(sets.size(), 1)) + "\">" +
                           escape_xml(model) + "</td><td rowspan=\"" +
                           std::to_string(std::max<std::size_t>(sets.size(), 1)) + "\" class=\"num\">" +
                           escape_xml(text_at(round, {"round"})) + "</td>";
  if (sets.empty())
    return "<tr>" + head + "<td colspan=\"" + std::to_string(markers.size() + 3) +
           "\" class=\"absent\">not evaluated</td></tr>\n";
  std::string rows;
  for (std::size_t i = 0; i < sets.size(); ++i)
    rows += "<tr>" + (i == 0 ? head : "") + "<td>" + sets[i].first + "</td>" + set_cells(*sets[i].second, markers) +
            "</tr>\n";
  return rows;
}

std::string selection_sentence(const Selection& s, const json& final_round) {
  std::string text = "Selected: round " + or_unknown(text_at(*s.round, {"round"}));
  if (!s.rule.empty()) text += ", by " + s.rule;
  if (s.score) text += " = " + fixed(*s.score, 3);
  if (!s.reason.empty()) text += " (" + s.reason + ")";
  text += ". Final: round " + or_unknown(text_at(final_round, {"round"})) + ".";
  if (round_number(*s.round) && round_number(*s.round) == round_number(final_round))
    text += " The selected model is the final one.";
  return "<p>" + escape_xml(text) + "</p>\n";
}

std::string duration_text(std::optional<double> seconds) {
  if (!seconds) return "not recorded";
  char buffer[64];
  if (*seconds < 60) {
    std::snprintf(buffer, sizeof buffer, "%.1f s", *seconds);
    return buffer;
  }
  const long s = std::lround(*seconds);
  if (s < 3600)
    std::snprintf(buffer, sizeof buffer, "%ld min %02ld s (%ld s)", s / 60, s % 60, s);
  else
    std::snprintf(buffer, sizeof buffer, "%ld h %02ld min (%ld s)", s / 3600, s / 60 % 60, s);
  return buffer;
}

// Seconds per round, and the simulated seconds when the run simulated time.
std::string seconds_figure(const RunFiles& run) {
  LineSeries wall{"wall seconds", {}, {}, {}, {}, false}, simulated{"simulated seconds", {}, {}, {}, {}, true};
  bool any_simulated = false;
  for (const json& r : run.rounds) {
    const std::optional<int> number = round_number(r);
    if (!number) continue;
    wall.x.push_back(*number);
    wall.y.push_back(number_at(r, {"seconds"}));
    simulated.x.push_back(*number);
    simulated.y.push_back(number_at(r, {"simulated_seconds"}));
    any_simulated = any_simulated || simulated.y.back();
  }
  LineChart chart;
  chart.title = "Seconds per round";
  chart.y_label = "seconds";
  chart.y_min = 0;
  chart.series.push_back(wall);
  if (any_simulated) chart.series.push_back(simulated);
  return figure(line_chart_svg(chart), "seconds per round",
                any_simulated ? "Wall time of each round, and its simulated time (the slowest client's compute plus "
                                "transfer)."
                              : "Wall time of each round (training, aggregation and evaluation).");
}

// "epsilon 3.21 at delta 0.05 (order 8.5), the most exposed site's; z 1.1, C 0.1 in the last round".
std::string privacy_text(const json& p) {
  const std::optional<double> eps = number_at(p, {"epsilon"});
  return "epsilon " + (eps ? fixed(*eps, 3, "?") : std::string("infinite (no noise)")) + " at delta " +
         fixed(number_at(p, {"delta"}), 4, "?") + " (order " + fixed(number_at(p, {"order"}), 1, "?") +
         "), the most exposed site's; noise multiplier " + fixed(number_at(p, {"noise_multiplier"}), 3, "?") +
         ", clip norm " + fixed(number_at(p, {"clip_norm"}), 4, "?") + " in the last round";
}

}  // namespace

std::string run_section(const RunFiles& run) {
  const json& c = run.config;
  std::string facts = fact("Strategy", escape_xml(strategy_text(c))) +
                      fact("Mode", escape_xml(or_unknown(text_at(c, {"federation", "mode"})))) +
                      fact("Rounds", escape_xml(rounds_text(run))) +
                      fact("Seed", escape_xml(or_unknown(text_at(c, {"runtime", "seed"})))) +
                      fact("Clients", escape_xml(clients_text(run))) +
                      fact("Model", escape_xml(or_unknown(text_at(c, {"model", "name"})))) +
                      fact("Manifest", escape_xml(or_unknown(text_at(c, {"data", "manifest"})))) +
                      fact("Config identity", identity_markup(run, "config")) +
                      fact("Data identity", identity_markup(run, "data"));
  const json& privacy = json_at(run.summary, {"privacy"});
  if (privacy.is_object()) facts += fact("Differential privacy", escape_xml(privacy_text(privacy)));
  std::string body = "<table class=\"facts\">\n" + facts + "</table>\n";
  if (run.absent.count("config.resolved.json")) body += absent_note(run.absent.at("config.resolved.json"));
  body += "<h3>Numerics</h3>\n" + numerics_table(json_at(run.summary, {"numerics"}));
  body += "<h3>Warnings</h3>\n" + warnings_list(json_at(run.summary, {"warnings"}));
  return section("run", "1. The run", body);
}

std::string selection_section(const RunFiles& run) {
  const Selection s = run_selection(run);
  const json& final_round = json_at(run.summary, {"final"});
  if (!s.round || !final_round.is_object())
    return section("selection", "2. Selected and final model",
                   absent_note("summary.json: no evaluated round (selected and final are null)"));
  const std::vector<std::string> markers = report_markers(run);
  const json& final_full = full_round(run, final_round);
  std::string body = selection_sentence(s, final_full);
  body += "<table>\n<thead><tr><th>Model</th><th>Round</th><th>Set</th>" + set_header_cells(markers) +
          "</tr></thead>\n<tbody>\n" + model_rows("selected", *s.round, markers) +
          model_rows("final", final_full, markers) + "</tbody></table>\n";
  body += region_table(*s.round);
  body +=
      "<p class=\"note\">The model is selected on validation cases only; external and test cases never choose "
      "it. Intervals are 95 %: bootstrap for mean Dice, DeLong for AUC.</p>\n";
  return section("selection", "2. Selected and final model", body);
}

std::string timing_section(const RunFiles& run) {
  const json& s = run.summary;
  const std::optional<double> rss = number_at(s, {"peak_rss_mb"});
  const std::string facts = fact("Wall time, all processes", duration_text(number_at(s, {"seconds_total"}))) +
                            fact("Wall time, last process", duration_text(number_at(s, {"seconds_last_process"}))) +
                            fact("Processes (resumes + 1)", escape_xml(or_unknown(text_at(s, {"processes"})))) +
                            fact("Peak resident memory", rss ? fixed(*rss, 0) + " MB (last process)" : "not measured");
  const std::string body = "<table class=\"facts\">\n" + facts + "</table>\n";
  if (run.rounds.empty())
    return section("timing", "7. Time and memory",
                   body + absent_file_note(run, "rounds.jsonl", "rounds.jsonl: no rounds"));
  return section("timing", "7. Time and memory", body + "<div class=\"grid\">" + seconds_figure(run) + "</div>\n");
}

std::string regenerate_section(const RunFiles& run) {
  return section("regenerate", "8. Regenerating this page",
                 "<p>This page was made from the files of the run folder <code>" + escape_xml(run.name) +
                     "</code> alone (summary.json, rounds.jsonl, config.resolved.json and the CSV tables) and "
                     "needs no other file or network access. Make it again, for example after copying the "
                     "folder, with:</p>\n<pre>fedglioma report RUN_DIR</pre>\n<p>It is written to "
                     "RUN_DIR/report.html; <code>--out FILE</code> writes it elsewhere.</p>\n");
}

}  // namespace fedglioma::sim
