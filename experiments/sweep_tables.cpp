#include "experiments/sweep_tables.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>
#include <optional>

#include "core/atomic_file.h"
#include "core/error.h"
#include "core/json_document.h"
#include "data/csv_table.h"
#include "data/manifest.h"
#include "sim/eval/fairness.h"
#include "sim/record/eval_json.h"

namespace fedglioma::experiments {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

// One metric of one round: its value, interval and n (n_neg for AUCs, with n the positives).
struct Value {
  std::optional<double> value, lo, hi;
  std::optional<std::size_t> n, n_neg;
};

const std::vector<std::string>& table_metrics() {
  static const std::vector<std::string> names = {"dice", "auc_idh", "auc_codeletion_1p19q", "auc_mgmt", "auc_grade",
                                                 "worst_site_dice"};
  return names;
}

// The table's metrics of one summary.json round block (external set, else validation).
struct RoundValues {
  std::optional<int> round;
  std::string set;
  std::map<std::string, Value> metrics;
  std::string notes;  ///< why a defined value has no interval ("auc_mgmt: 1 positive and ...")
};

Value with_interval(const std::optional<double>& v, const std::optional<Interval>& ci) {
  Value out{v, std::nullopt, std::nullopt, std::nullopt, std::nullopt};
  if (ci) out.lo = ci->lower, out.hi = ci->upper;
  return out;
}

RoundValues round_values(const json& block) {
  RoundValues out;
  if (block.is_null() || !block.contains("eval")) return out;
  out.round = block.at("round").get<int>();
  const sim::RoundEval e = sim::round_eval_from(block["eval"]);
  const sim::EvalSummary& s = e.external.n > 0 ? e.external : e.val;
  out.set = e.external.n > 0 ? "external" : "val";
  out.metrics["dice"] = with_interval(s.dice_mean, s.dice_mean_ci);
  out.metrics["dice"].n = s.n_dice;
  for (const sim::MissingInterval& missing : sim::missing_intervals(s))
    out.notes += (out.notes.empty() ? "" : "; ") +
                 (missing.marker ? std::string("auc_") + data::kMarkers[*missing.marker] : std::string("dice")) + ": " +
                 missing.reason;
  for (std::size_t m = 0; m < data::kMarkers.size(); ++m) {
    Value& v = out.metrics[std::string("auc_") + data::kMarkers[m]] = with_interval(s.auc[m], s.auc_ci_delong[m]);
    v.n = s.n_positive[m];
    v.n_neg = s.n_negative[m];
  }
  // The worst site's validation Dice, of the models the sites deploy (their own, where they have one).
  const sim::RoundFairness f = sim::round_fairness(e);
  out.metrics["worst_site_dice"] = {f.personal ? f.personal->dice.worst : f.sites.dice.worst, std::nullopt,
                                    std::nullopt, f.personal ? f.personal->dice.defined : f.sites.dice.defined,
                                    std::nullopt};
  return out;
}

std::string cell(const std::optional<double>& v) {
  if (!v) return "";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.4f", *v);
  return buf;
}

std::string count(const std::optional<std::size_t>& n) { return n ? std::to_string(*n) : ""; }

std::string csv_header(const std::vector<std::string>& keys) {
  std::string csv = "point";
  for (const auto& k : keys) csv += "," + data::csv_field(k);
  for (const char* which : {"final", "selected"}) {
    const std::string w = which;
    csv += "," + w + "_round," + w + "_set," + w + "_interval_notes";
    for (const auto& m : table_metrics()) {
      csv += "," + w + "_" + m + "," + w + "_" + m + "_lo," + w + "_" + m + "_hi";
      csv += m.rfind("auc_", 0) == 0 ? "," + w + "_" + m + "_n_pos," + w + "_" + m + "_n_neg" : "," + w + "_" + m + "_n";
    }
  }
  return csv + "\n";
}

std::string csv_cells(const RoundValues& r) {
  std::string csv = "," + (r.round ? std::to_string(*r.round) : std::string()) + "," + r.set + "," +
                    data::csv_field(r.notes);
  for (const auto& m : table_metrics()) {
    const auto it = r.metrics.find(m);
    const Value v = it == r.metrics.end() ? Value{} : it->second;
    csv += "," + cell(v.value) + "," + cell(v.lo) + "," + cell(v.hi) + "," + count(v.n);
    if (m.rfind("auc_", 0) == 0) csv += "," + count(v.n_neg);
  }
  return csv;
}

// The points grouped by their settings other than the seed (the rows of sweep.md), in the order
// their first point comes: group -> metric -> the selected rounds' values.
struct TableGroups {
  std::map<std::string, std::map<std::string, std::vector<Value>>> values;
  std::vector<std::string> order;
};

std::string group_of(const SweepPoint& p, const std::vector<std::string>& keys) {
  std::string group;
  for (const auto& k : keys) {
    if (k == "runtime.seed") continue;
    const auto& v = p.settings[k];
    const std::string last = k.substr(k.rfind('.') + 1);
    group += (group.empty() ? "" : ", ") + (v.is_string() ? v.get<std::string>() : last + "=" + v.dump());
  }
  return group;
}

std::string csv_row(const SweepPoint& p, const std::vector<std::string>& keys, TableGroups& groups) {
  const fs::path path = p.dir / "summary.json";
  json summary;
  try {
    summary = parse_json_document(read_file(path));
  } catch (const std::exception& e) {
    throw IoError("'" + path.string() + "' cannot be read (" + e.what() + "); delete the point's folder to run it again");
  }
  std::string csv = data::csv_field(p.name);
  for (const auto& k : keys) {
    const auto& v = p.settings[k];
    csv += "," + data::csv_field(v.is_string() ? v.get<std::string>() : v.dump());
  }
  const RoundValues selected = round_values(summary.value("selected", json()));
  csv += csv_cells(round_values(summary.value("final", json()))) + csv_cells(selected) + "\n";
  const std::string group = group_of(p, keys);
  if (!groups.values.count(group)) groups.order.push_back(group);
  for (const auto& m : table_metrics()) {
    auto& list = groups.values[group][m];
    const auto it = selected.metrics.find(m);
    if (it != selected.metrics.end() && it->second.value) list.push_back(it->second);
  }
  return csv;
}

// A sweep.md cell: the mean over seeds with the seeds' 95 % t-interval (one run: its own
// interval), clamped to [0, 1]; "-" without values.
std::string md_cell(const std::vector<Value>& v) {
  if (v.empty()) return " - |";
  double sum = 0, sq = 0;
  for (const Value& x : v) sum += *x.value;
  const double mean = sum / static_cast<double>(v.size());
  for (const Value& x : v) sq += (*x.value - mean) * (*x.value - mean);
  std::optional<double> lo = v.front().lo, hi = v.front().hi;
  if (v.size() > 1) {
    const double half = t_quantile_975(v.size() - 1) * std::sqrt(sq / static_cast<double>(v.size() - 1)) /
                        std::sqrt(static_cast<double>(v.size()));
    lo = mean - half, hi = mean + half;
  }
  char buf[64];
  if (lo && hi)
    std::snprintf(buf, sizeof buf, " %.3f [%.3f, %.3f] |", mean, std::max(0.0, *lo), std::min(1.0, *hi));
  else
    std::snprintf(buf, sizeof buf, " %.3f |", mean);
  return buf;
}

std::string md_row(const std::string& group, std::map<std::string, std::vector<Value>>& by_metric) {
  std::size_t n = 0;
  std::string row;
  for (const auto& m : table_metrics()) {
    n = std::max(n, by_metric[m].size());
    row += md_cell(by_metric[m]);
  }
  return "| " + (group.empty() ? std::string("(all)") : group) + " | " + std::to_string(n) + " |" + row + "\n";
}

}  // namespace

double t_quantile_975(std::size_t df) {
  static const double table[] = {12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228,
                                 2.201,  2.179, 2.160, 2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086,
                                 2.080,  2.074, 2.069, 2.064, 2.060, 2.056, 2.052, 2.048, 2.045, 2.042};
  if (df >= 1 && df <= 30) return table[df - 1];
  if (df <= 40) return 2.042;
  if (df <= 60) return 2.021;
  if (df <= 120) return 2.000;
  return 1.980;
}

void write_sweep_tables(const fs::path& out, const std::string& name, const std::vector<std::string>& keys,
                        const std::vector<SweepPoint>& points, const std::vector<PointFailure>& failures) {
  std::string csv = csv_header(keys);
  TableGroups groups;
  for (const SweepPoint& p : points)
    if (fs::exists(p.dir / "summary.json")) csv += csv_row(p, keys, groups);
  write_file_atomic(out / "sweep.csv", csv);

  std::string md = "# Sweep " + name +
                   "\n\nMetrics of each run's selected round (eval.select_by, chosen on its validation cases), on the "
                   "external set (validation when there is none): the mean over seeds [95 % t-interval over the seeds; "
                   "one seed: the run's own interval, bootstrap for Dice, DeLong for AUCs], n = runs; worst-site Dice: "
                   "the lowest site's validation Dice, of each site's own model where the strategy personalises.\n\n"
                   "| setting | n | Dice | AUC IDH | AUC 1p/19q | AUC MGMT | AUC grade | worst-site Dice |\n"
                   "| --- | --- | --- | --- | --- | --- | --- | --- |\n";
  for (const auto& g : groups.order) md += md_row(g, groups.values[g]);
  if (!failures.empty()) md += "\nFailed points (not in the table):\n\n";
  for (const PointFailure& f : failures) md += "- " + f.name + ": " + f.error + "\n";
  write_file_atomic(out / "sweep.md", md);
}

}  // namespace fedglioma::experiments
