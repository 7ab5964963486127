#include "sim/record/eval_json.h"

#include <nlohmann/json.hpp>

#include "data/manifest.h"
#include "sim/eval/fairness.h"
#include "sim/eval/set_metrics.h"

namespace fedglioma::sim {
namespace {

using nlohmann::json;

json interval_json(const std::optional<Interval>& i) {
  return i ? json::array({i->lower, i->upper}) : json(nullptr);
}

std::optional<Interval> interval_from(const json& v) {
  if (v.is_null()) return std::nullopt;
  return Interval{v.at(0).get<double>(), v.at(1).get<double>()};
}

json rates_json(const std::optional<ThresholdRates>& r) {
  if (!r) return nullptr;
  return {{"threshold", r->threshold},
          {"sensitivity", r->sensitivity},
          {"specificity", r->specificity},
          {"balanced_accuracy", r->balanced_accuracy}};
}

std::optional<ThresholdRates> rates_from(const json& v) {
  if (v.is_null()) return std::nullopt;
  ThresholdRates r;
  r.threshold = v.at("threshold").get<double>();
  r.sensitivity = v.at("sensitivity").get<double>();
  r.specificity = v.at("specificity").get<double>();
  r.balanced_accuracy = v.at("balanced_accuracy").get<double>();
  return r;
}

// "dice_mean_ci": the method, the cases it resamples, the interval or why there is none.
json dice_ci_json(const EvalSummary& s) {
  json out = {{"method", "bootstrap"}, {"n", s.n_dice}, {"interval", interval_json(s.dice_mean_ci)}};
  if (!s.dice_mean_ci && s.dice_mean_ci_missing) out["reason"] = *s.dice_mean_ci_missing;
  return out;
}

// The per-marker blocks: auc, auc_n, auc_ci, calibration, rates.
void put_markers(const EvalSummary& s, json& out) {
  json auc = json::object(), n = json::object(), ci = json::object(), calibration = json::object(),
       rates = json::object();
  for (std::size_t m = 0; m < data::kMarkers.size(); ++m) {
    const char* marker = data::kMarkers[m];
    auc[marker] = optional_json(s.auc[m]);
    n[marker] = {{"positive", s.n_positive[m]}, {"negative", s.n_negative[m]}};
    ci[marker] = {{"delong", interval_json(s.auc_ci_delong[m])}, {"bootstrap", interval_json(s.auc_ci_bootstrap[m])}};
    if (s.auc_ci_missing[m]) ci[marker]["reason"] = *s.auc_ci_missing[m];
    calibration[marker] = {{"brier", optional_json(s.brier[m])}, {"ece", optional_json(s.ece[m])}};
    rates[marker] = {{"at_0.5", rates_json(s.at_05[m])},
                     {"youden", rates_json(s.at_youden[m])},
                     {"at_val_threshold", rates_json(s.at_val_threshold[m])}};
  }
  out["auc"] = auc;
  out["auc_n"] = n;
  out["auc_ci"] = ci;
  out["calibration"] = calibration;
  out["rates"] = rates;
}

void read_markers(const json& j, EvalSummary& s) {
  for (std::size_t m = 0; m < data::kMarkers.size(); ++m) {
    const char* marker = data::kMarkers[m];
    s.auc[m] = optional_from(j.at("auc").at(marker));
    const json& ci = j.at("auc_ci").at(marker);
    s.auc_ci_delong[m] = interval_from(ci.at("delong"));
    s.auc_ci_bootstrap[m] = interval_from(ci.at("bootstrap"));
    if (ci.contains("reason")) s.auc_ci_missing[m] = ci["reason"].get<std::string>();
    if (j.contains("auc_n")) {
      s.n_positive[m] = j["auc_n"].at(marker).at("positive").get<std::size_t>();
      s.n_negative[m] = j["auc_n"].at(marker).at("negative").get<std::size_t>();
    }
    if (j.contains("calibration")) {
      s.brier[m] = optional_from(j["calibration"].at(marker).at("brier"));
      s.ece[m] = optional_from(j["calibration"].at(marker).at("ece"));
    }
    const json& rates = j.at("rates").at(marker);
    s.at_05[m] = rates_from(rates.at("at_0.5"));
    s.at_youden[m] = rates_from(rates.at("youden"));
    if (rates.contains("at_val_threshold")) s.at_val_threshold[m] = rates_from(rates["at_val_threshold"]);
  }
}

json grade3_json(const GradeSummary& g) {
  return {{"auc_macro_ovr", optional_json(g.auc_macro)},
          {"auc_macro_ovr_ci_bootstrap", interval_json(g.auc_macro_ci_bootstrap)},
          {"auc_ovr",
           {{"2", optional_json(g.auc_ovr[0])}, {"3", optional_json(g.auc_ovr[1])}, {"4", optional_json(g.auc_ovr[2])}}}};
}

GradeSummary grade3_from(const json& g) {
  GradeSummary grade;
  grade.auc_macro = optional_from(g.at("auc_macro_ovr"));
  grade.auc_macro_ci_bootstrap = interval_from(g.at("auc_macro_ovr_ci_bootstrap"));
  for (std::size_t c = 0; c < 3; ++c) grade.auc_ovr[c] = optional_from(g.at("auc_ovr").at(std::to_string(c + 2)));
  return grade;
}

json spread_json(const Spread& s) {
  return {{"worst", optional_json(s.worst)}, {"best", optional_json(s.best)}, {"sd", optional_json(s.sd)},
          {"sites", s.defined}, {"undefined", s.undefined}};
}

json fairness_json(const Fairness& f) {
  json auc = json::object();
  for (std::size_t m = 0; m < data::kMarkers.size(); ++m) auc[data::kMarkers[m]] = spread_json(f.auc[m]);
  return {{"dice_mean", spread_json(f.dice)}, {"auc", auc}};
}

}  // namespace

json optional_json(const std::optional<double>& v) { return v ? json(*v) : json(nullptr); }

std::optional<double> optional_from(const json& v) {
  return v.is_null() ? std::nullopt : std::optional<double>(v.get<double>());
}

json eval_json(const EvalSummary& s) {
  json out = {{"n", s.n},
              {"dice_mean", optional_json(s.dice_mean)},
              {"dice_mean_ci", dice_ci_json(s)},
              {"dice_median", optional_json(s.dice_median)}};
  put_markers(s, out);
  for (const SetMetric& metric : set_metrics())
    if (!metric.only_where_defined || s.metric(metric.name)) out[metric.name] = optional_json(s.metric(metric.name));
  if (s.diverged) {
    out["status"] = "diverged";
    out["reason"] = *s.diverged;
  }
  if (s.grade3) out["grade_3class"] = grade3_json(*s.grade3);
  return out;
}

EvalSummary eval_from(const json& j) {
  EvalSummary s;
  s.n = j.at("n").get<std::size_t>();
  s.dice_mean = optional_from(j.at("dice_mean"));
  s.dice_median = optional_from(j.at("dice_median"));
  if (j.contains("dice_mean_ci")) {
    const json& ci = j["dice_mean_ci"];
    s.n_dice = ci.at("n").get<std::size_t>();
    s.dice_mean_ci = interval_from(ci.at("interval"));
    if (ci.contains("reason")) s.dice_mean_ci_missing = ci["reason"].get<std::string>();
  }
  for (const SetMetric& metric : set_metrics())
    s.named[metric.name] = metric.only_where_defined && !j.contains(metric.name) ? std::nullopt : optional_from(j.at(metric.name));
  if (j.contains("reason")) s.diverged = j["reason"].get<std::string>();
  read_markers(j, s);
  if (j.contains("grade_3class")) s.grade3 = grade3_from(j["grade_3class"]);
  return s;
}

json round_eval_json(const RoundEval& e) {
  json out = {{"external", eval_json(e.external)}, {"val", eval_json(e.val)}};
  if (e.test) out["test"] = eval_json(*e.test);
  json sites = json::object();
  for (const auto& [site, summary] : e.sites) sites[site] = eval_json(summary);
  out["sites"] = sites;
  if (!e.personal.empty()) {
    json personal = json::object();
    for (const auto& [client, own] : e.personal)
      personal[client] = {{"val", eval_json(own.val)}, {"external", eval_json(own.external)}};
    out["personal"] = personal;
  }
  const RoundFairness f = round_fairness(e);
  out["fairness"] = {{"sites", fairness_json(f.sites)}};
  if (f.personal) out["fairness"]["personal"] = fairness_json(*f.personal);
  return out;
}

RoundEval round_eval_from(const json& e) {
  RoundEval eval;
  eval.external = eval_from(e.at("external"));
  eval.val = eval_from(e.at("val"));
  if (e.contains("test")) eval.test = eval_from(e["test"]);
  for (const auto& [site, block] : e.at("sites").items()) eval.sites[site] = eval_from(block);
  if (e.contains("personal"))
    for (const auto& [client, block] : e["personal"].items())
      eval.personal[client] = {eval_from(block.at("val")), eval_from(block.at("external"))};
  return eval;
}

}  // namespace fedglioma::sim
