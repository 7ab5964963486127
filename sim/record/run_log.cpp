#include "sim/record/run_log.h"

#include <nlohmann/json.hpp>

#include <cstdio>
#include <fstream>
#include <sstream>

#include "core/atomic_file.h"
#include "core/error.h"
#include "data/csv_table.h"
#include "data/manifest.h"
#include "sim/eval/set_metrics.h"

namespace fedglioma::sim {
namespace {

using nlohmann::json;

json optional_json(const std::optional<double>& v) { return v ? json(*v) : json(nullptr); }

json interval_json(const std::optional<Interval>& i) {
  return i ? json::array({i->lower, i->upper}) : json(nullptr);
}

json rates_json(const std::optional<ThresholdRates>& r) {
  if (!r) return nullptr;
  return {{"threshold", r->threshold},
          {"sensitivity", r->sensitivity},
          {"specificity", r->specificity},
          {"balanced_accuracy", r->balanced_accuracy}};
}

json eval_json(const EvalSummary& s) {
  json auc = json::object(), ci = json::object(), rates = json::object();
  for (std::size_t m = 0; m < data::kMarkers.size(); ++m) {
    auc[data::kMarkers[m]] = optional_json(s.auc[m]);
    ci[data::kMarkers[m]] = {{"delong", interval_json(s.auc_ci_delong[m])},
                             {"bootstrap", interval_json(s.auc_ci_bootstrap[m])}};
    rates[data::kMarkers[m]] = {{"at_0.5", rates_json(s.at_05[m])}, {"youden", rates_json(s.at_youden[m])}};
  }
  json out = {{"n", s.n},
              {"dice_mean", optional_json(s.dice_mean)},
              {"dice_median", optional_json(s.dice_median)},
              {"auc", auc},
              {"auc_ci", ci},
              {"rates", rates}};
  for (const SetMetric& metric : set_metrics()) out[metric.name] = optional_json(s.metric(metric.name));
  if (s.diverged) {
    out["status"] = "diverged";
    out["reason"] = *s.diverged;
  }
  if (s.grade3)
    out["grade_3class"] = {{"auc_macro_ovr", optional_json(s.grade3->auc_macro)},
                           {"auc_macro_ovr_ci_bootstrap", interval_json(s.grade3->auc_macro_ci_bootstrap)},
                           {"auc_ovr", {{"2", optional_json(s.grade3->auc_ovr[0])},
                                        {"3", optional_json(s.grade3->auc_ovr[1])},
                                        {"4", optional_json(s.grade3->auc_ovr[2])}}}};
  return out;
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

std::optional<double> optional_from(const json& v) {
  return v.is_null() ? std::nullopt : std::optional<double>(v.get<double>());
}

std::optional<Interval> interval_from(const json& v) {
  if (v.is_null()) return std::nullopt;
  return Interval{v.at(0).get<double>(), v.at(1).get<double>()};
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

EvalSummary eval_from(const json& j) {
  EvalSummary s;
  s.n = j.at("n").get<std::size_t>();
  s.dice_mean = optional_from(j.at("dice_mean"));
  s.dice_median = optional_from(j.at("dice_median"));
  for (const SetMetric& metric : set_metrics()) s.named[metric.name] = optional_from(j.at(metric.name));
  if (j.contains("reason")) s.diverged = j["reason"].get<std::string>();
  for (std::size_t m = 0; m < data::kMarkers.size(); ++m) {
    const char* marker = data::kMarkers[m];
    s.auc[m] = optional_from(j.at("auc").at(marker));
    s.auc_ci_delong[m] = interval_from(j.at("auc_ci").at(marker).at("delong"));
    s.auc_ci_bootstrap[m] = interval_from(j.at("auc_ci").at(marker).at("bootstrap"));
    s.at_05[m] = rates_from(j.at("rates").at(marker).at("at_0.5"));
    s.at_youden[m] = rates_from(j.at("rates").at(marker).at("youden"));
  }
  if (j.contains("grade_3class")) {
    const json& g = j["grade_3class"];
    GradeSummary grade;
    grade.auc_macro = optional_from(g.at("auc_macro_ovr"));
    grade.auc_macro_ci_bootstrap = interval_from(g.at("auc_macro_ovr_ci_bootstrap"));
    for (std::size_t c = 0; c < 3; ++c) grade.auc_ovr[c] = optional_from(g.at("auc_ovr").at(std::to_string(c + 2)));
    s.grade3 = grade;
  }
  return s;
}

json round_json(const RoundRecord& r) {
  json clients = json::array();
  for (const ClientRecord& c : r.clients)
    clients.push_back({{"id", c.id}, {"samples", c.samples}, {"train_loss", optional_json(c.train_loss)},
                       {"status", c.status}, {"train_seconds", c.train_seconds},
                       {"io_wait_seconds", c.io_wait_seconds}});
  for (std::size_t i = 0; i < r.clients.size(); ++i) {
    if (r.clients[i].simulated_seconds) clients[i]["simulated_seconds"] = *r.clients[i].simulated_seconds;
    if (r.clients[i].skipped_steps) clients[i]["skipped_steps"] = r.clients[i].skipped_steps;
  }
  json out = {{"round", r.round}, {"seconds", r.seconds}, {"clients", clients}};
  if (r.skipped) out["skipped"] = *r.skipped;
  if (r.simulated_seconds) out["simulated_seconds"] = *r.simulated_seconds;
  if (r.task_log_variance) {
    json s = {{"mask", (*r.task_log_variance)[0]}};
    for (std::size_t m = 0; m < data::kMarkers.size(); ++m) s[data::kMarkers[m]] = (*r.task_log_variance)[m + 1];
    out["task_log_variance"] = s;
  }
  if (r.eval) out["eval"] = round_eval_json(*r.eval);
  return out;
}

std::string number(const std::optional<double>& v) {
  if (!v) return "";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.9g", *v);
  return buf;
}

std::string label(const std::optional<int>& v) { return v ? std::to_string(*v) : ""; }

std::string csv_row(int round, const std::string& set, const EvalSummary& s) {
  return std::to_string(round) + "," + data::csv_field(set) + "," + metrics_csv_fields(s) + "\n";
}

}  // namespace

std::string round_eval_json_text(const RoundEval& eval) { return round_eval_json(eval).dump(); }

std::string round_json_line(const RoundRecord& record) { return round_json(record).dump(); }

RoundsFile read_rounds_file(const std::filesystem::path& path, const std::string& remedy, std::size_t max_rounds) {
  RoundsFile out;
  std::istringstream lines(read_file(path));
  for (std::string line; out.rounds.size() < max_rounds && std::getline(lines, line);) {
    try {
      out.rounds.push_back(round_from_json_line(line));
    } catch (const std::invalid_argument& e) {
      throw IoError("'" + path.string() + "' line " + std::to_string(out.rounds.size() + 1) + " is damaged (" + e.what() +
                    "); " + remedy);
    }
    out.text += line + "\n";
  }
  return out;
}

RoundRecord round_from_json_line(const std::string& line) {
  try {
    const json j = json::parse(line);
    RoundRecord r;
    r.round = j.at("round").get<int>();
    r.seconds = j.at("seconds").get<double>();
    for (const json& c : j.at("clients")) {
      ClientRecord record;
      record.id = c.at("id").get<std::string>();
      record.samples = c.at("samples").get<std::size_t>();
      record.train_loss = optional_from(c.at("train_loss"));
      record.status = c.at("status").get<std::string>();
      record.io_wait_seconds = c.value("io_wait_seconds", 0.0);
      record.train_seconds = c.value("train_seconds", 0.0);
      record.skipped_steps = c.value("skipped_steps", std::int64_t{0});
      if (c.contains("simulated_seconds")) record.simulated_seconds = c["simulated_seconds"].get<double>();
      r.clients.push_back(record);
    }
    if (j.contains("skipped")) r.skipped = j["skipped"].get<std::string>();
    if (j.contains("simulated_seconds")) r.simulated_seconds = j["simulated_seconds"].get<double>();
    if (j.contains("task_log_variance")) {
      const json& s = j["task_log_variance"];
      r.task_log_variance = {s.at("mask").get<double>(), 0, 0, 0, 0};
      for (std::size_t m = 0; m < data::kMarkers.size(); ++m)
        (*r.task_log_variance)[m + 1] = s.at(data::kMarkers[m]).get<double>();
    }
    if (j.contains("eval")) {
      const json& e = j["eval"];
      RoundEval eval;
      eval.external = eval_from(e.at("external"));
      eval.val = eval_from(e.at("val"));
      if (e.contains("test")) eval.test = eval_from(e["test"]);
      for (const auto& [site, block] : e.at("sites").items()) eval.sites[site] = eval_from(block);
      if (e.contains("personal"))
        for (const auto& [client, block] : e["personal"].items())
          eval.personal[client] = {eval_from(block.at("val")), eval_from(block.at("external"))};
      r.eval = eval;
    }
    return r;
  } catch (const json::exception& e) {
    throw std::invalid_argument(std::string("malformed rounds.jsonl line: ") + e.what());
  }
}

RoundFairness round_fairness(const RoundEval& eval) {
  RoundFairness f;
  std::vector<const EvalSummary*> sites, own;
  for (const auto& [site, summary] : eval.sites) sites.push_back(&summary);
  for (const auto& [client, mine] : eval.personal) own.push_back(&mine.val);
  f.sites = fairness(sites);
  if (!own.empty()) f.personal = fairness(own);
  return f;
}

std::string metrics_csv_field_names() {
  std::string names = "n,dice_mean,dice_median";
  for (const SetMetric& metric : set_metrics()) names += "," + metric.name;
  return names + ",auc_idh,auc_codeletion_1p19q,auc_mgmt,auc_grade,auc_grade_macro_ovr,status";
}

std::string metrics_csv_fields(const EvalSummary& s) {
  std::string row = std::to_string(s.n) + "," + number(s.dice_mean) + "," + number(s.dice_median);
  for (const SetMetric& metric : set_metrics()) row += "," + number(s.metric(metric.name));
  for (const auto& auc : s.auc) row += "," + number(auc);
  return row + "," + (s.grade3 ? number(s.grade3->auc_macro) : std::string()) + "," + (s.diverged ? "diverged" : "ok");
}

std::string cross_site_csv(const Partition& partition, const std::vector<CrossSiteCell>& cells) {
  std::string out = "model,data," + metrics_csv_field_names() + "\n";
  for (const CrossSiteCell& c : cells)
    out += data::csv_field(partition.clients[c.model].id) + "," + data::csv_field(partition.clients[c.data].id) + "," +
           metrics_csv_fields(c.summary) + "\n";
  return out;
}

std::string metrics_csv_header() { return "round,set," + metrics_csv_field_names() + "\n"; }

std::string metrics_csv_rows(const RoundRecord& record) {
  if (!record.eval) return "";
  const RoundEval& e = *record.eval;
  std::string rows = csv_row(record.round, "external", e.external) + csv_row(record.round, "val", e.val);
  if (e.test) rows += csv_row(record.round, "test", *e.test);
  for (const auto& [site, summary] : e.sites) rows += csv_row(record.round, "site:" + site, summary);
  for (const auto& [client, own] : e.personal) {
    rows += csv_row(record.round, "personal:" + client + ":val", own.val);
    rows += csv_row(record.round, "personal:" + client + ":external", own.external);
  }
  return rows;
}

std::string predictions_csv_header() {
  return "round,case_id,site,split,dice,p_idh,p_codeletion_1p19q,p_mgmt,p_grade,y_idh,y_codeletion_1p19q,"
         "y_mgmt,y_grade,model,p_grade2,p_grade3,p_grade4,who_grade\n";
}

std::string predictions_csv_rows(int round, const std::vector<CasePrediction>& predictions,
                                 const std::vector<std::string>& models) {
  std::string rows;
  for (std::size_t i = 0; i < predictions.size(); ++i) {
    const CasePrediction& p = predictions[i];
    const data::Sample& s = *p.sample;
    rows += std::to_string(round) + "," + data::csv_field(s.id) + "," + data::csv_field(s.site) + "," +
            data::csv_field(s.split) + "," + number(p.dice);
    for (double prob : p.markers.prob) rows += "," + number(prob);
    for (std::size_t m = 0; m < data::kMarkers.size(); ++m) rows += "," + label(s.labels.binary(m));
    rows += "," + data::csv_field(models[i]);
    for (std::size_t c = 0; c < 3; ++c)
      rows += "," + (p.markers.grade ? number((*p.markers.grade)[c]) : std::string());
    rows += "," + label(s.labels.grade) + "\n";
  }
  return rows;
}

std::string partitions_json(const Partition& partition, const std::string& scheme) {
  auto ids = [](const std::vector<const data::Sample*>& cases) {
    json out = json::array();
    for (const data::Sample* s : cases) out.push_back(s->id);
    return out;
  };
  json clients = json::array();
  for (const Client& c : partition.clients) clients.push_back({{"id", c.id}, {"train", ids(c.train)}, {"val", ids(c.val)}});
  return json{{"scheme", scheme}, {"clients", clients}, {"external", ids(partition.external)}, {"test", ids(partition.test)}}
             .dump(2) + "\n";
}

std::string summary_json(const std::vector<RoundRecord>& rounds, const RunTiming& timing, const NumericsReport& numerics,
                         const std::vector<std::string>& warnings) {
  const RoundRecord* final_eval = nullptr;
  const RoundRecord* best = nullptr;
  auto score = [](const RoundRecord& r) {
    const auto& e = *r.eval;
    return e.external.n ? e.external.dice_mean.value_or(-1) : e.val.dice_mean.value_or(-1);
  };
  for (const RoundRecord& r : rounds) {
    if (!r.eval) continue;
    final_eval = &r;
    if (!best || score(r) > score(*best)) best = &r;
  }
  json out = {{"rounds", rounds.size()},
              {"seconds_total", timing.seconds_total},
              {"seconds_last_process", timing.seconds_last_process},
              {"processes", timing.processes},
              {"peak_rss_mb", nullptr}};
  // Linux: the process's peak resident set size (VmHWM), for memory benchmarks.
  std::ifstream status("/proc/self/status");
  for (std::string line; std::getline(status, line);)
    if (line.rfind("VmHWM:", 0) == 0) out["peak_rss_mb"] = std::stod(line.substr(6)) / 1024.0;
  out["final"] = final_eval ? round_json(*final_eval) : json(nullptr);
  out["best"] = best ? round_json(*best) : json(nullptr);
  out["best_by"] = best && best->eval->external.n ? "external.dice_mean" : "val.dice_mean";
  out["numerics"] = {{"cpu_numerics", numerics.cpu_numerics},
                     {"aten_cpu_capability", numerics.aten_cpu_capability},
                     {"onednn_max_cpu_isa", numerics.onednn_max_cpu_isa},
                     {"user_environment", numerics.user_environment},
                     {"cuda_deterministic", numerics.cuda_deterministic},
                     {"threads_per_worker", numerics.threads_per_worker}};
  out["warnings"] = warnings;
  return out.dump(2) + "\n";
}

}  // namespace fedglioma::sim
