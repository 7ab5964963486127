#include "sim/record/run_log.h"

#include <nlohmann/json.hpp>

#include <cmath>
#include <cstdio>
#include <limits>
#include <fstream>
#include <sstream>

#include "core/atomic_file.h"
#include "core/error.h"
#include "data/csv_table.h"
#include "data/manifest.h"
#include "sim/eval/set_metrics.h"
#include "sim/record/eval_json.h"

namespace fedglioma::sim {
namespace {

using nlohmann::json;

// An asynchronous arrival's fields: base_version, staleness, staleness_weight, arrival_seconds.
void add_async_fields(const ClientRecord& c, json& out) {
  if (c.base_version) out["base_version"] = *c.base_version;
  if (c.staleness) out["staleness"] = *c.staleness;
  if (c.staleness_weight) out["staleness_weight"] = *c.staleness_weight;
  if (c.arrival_seconds) out["arrival_seconds"] = *c.arrival_seconds;
}

void read_async_fields(const json& c, ClientRecord& out) {
  if (c.contains("base_version")) out.base_version = c["base_version"].get<std::int64_t>();
  if (c.contains("staleness")) out.staleness = c["staleness"].get<std::int64_t>();
  if (c.contains("staleness_weight")) out.staleness_weight = c["staleness_weight"].get<double>();
  if (c.contains("arrival_seconds")) out.arrival_seconds = c["arrival_seconds"].get<double>();
}

// An epsilon as JSON: null when infinite (no noise), which JSON cannot write.
json epsilon_json(double epsilon) { return std::isinf(epsilon) ? json(nullptr) : json(epsilon); }
double epsilon_from(const json& j) { return j.is_null() ? std::numeric_limits<double>::infinity() : j.get<double>(); }

json privacy_json(const PrivacyRecord& p) {
  json sites = json::object();
  for (const auto& [id, epsilon] : p.sites) sites[id] = epsilon_json(epsilon);
  json out = {{"epsilon", epsilon_json(p.epsilon)}, {"order", p.order}, {"delta", p.delta}, {"clip_norm", p.clip_norm},
              {"noise_multiplier", p.noise_multiplier}, {"sites", sites}, {"update_norms", p.update_norms}};
  if (p.unclipped_fraction) out["unclipped_fraction"] = *p.unclipped_fraction;
  if (p.stopped) out["stopped"] = *p.stopped;
  if (!p.retired.empty()) out["retired"] = p.retired;
  return out;
}

PrivacyRecord privacy_from(const json& j) {
  PrivacyRecord p;
  p.epsilon = epsilon_from(j.at("epsilon"));
  p.order = j.at("order").get<double>();
  p.delta = j.at("delta").get<double>();
  p.clip_norm = j.at("clip_norm").get<double>();
  p.noise_multiplier = j.at("noise_multiplier").get<double>();
  for (const auto& [id, epsilon] : j.at("sites").items()) p.sites[id] = epsilon_from(epsilon);
  p.update_norms = j.value("update_norms", std::map<std::string, double>{});
  if (j.contains("unclipped_fraction")) p.unclipped_fraction = j["unclipped_fraction"].get<double>();
  if (j.contains("stopped")) p.stopped = j["stopped"].get<std::string>();
  p.retired = j.value("retired", std::vector<std::string>{});
  return p;
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
    add_async_fields(r.clients[i], clients[i]);
  }
  json out = {{"round", r.round}, {"seconds", r.seconds}, {"clients", clients}};
  if (r.skipped) out["skipped"] = *r.skipped;
  if (r.simulated_seconds) out["simulated_seconds"] = *r.simulated_seconds;
  if (r.clock_seconds) out["clock_seconds"] = *r.clock_seconds;
  if (r.task_log_variance) {
    json s = {{"mask", (*r.task_log_variance)[0]}};
    for (std::size_t m = 0; m < data::kMarkers.size(); ++m) s[data::kMarkers[m]] = (*r.task_log_variance)[m + 1];
    out["task_log_variance"] = s;
  }
  if (r.eval) out["eval"] = round_eval_json(*r.eval);
  if (r.privacy) out["privacy"] = privacy_json(*r.privacy);
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
      read_async_fields(c, record);
      r.clients.push_back(record);
    }
    if (j.contains("skipped")) r.skipped = j["skipped"].get<std::string>();
    if (j.contains("simulated_seconds")) r.simulated_seconds = j["simulated_seconds"].get<double>();
    if (j.contains("clock_seconds")) r.clock_seconds = j["clock_seconds"].get<double>();
    if (j.contains("task_log_variance")) {
      const json& s = j["task_log_variance"];
      r.task_log_variance = {s.at("mask").get<double>(), 0, 0, 0, 0};
      for (std::size_t m = 0; m < data::kMarkers.size(); ++m)
        (*r.task_log_variance)[m + 1] = s.at(data::kMarkers[m]).get<double>();
    }
    if (j.contains("eval")) r.eval = round_eval_from(j["eval"]);
    if (j.contains("privacy")) r.privacy = privacy_from(j["privacy"]);
    return r;
  } catch (const json::exception& e) {
    throw std::invalid_argument(std::string("malformed rounds.jsonl line: ") + e.what());
  }
}

std::string metrics_csv_field_names() {
  std::string names = "n,dice_mean,dice_mean_bootstrap_lo,dice_mean_bootstrap_hi,dice_n,dice_median";
  for (const SetMetric& metric : set_metrics()) names += "," + metric.name;
  for (const char* m : data::kMarkers) {
    const std::string auc = std::string("auc_") + m;
    names += "," + auc + "," + auc + "_delong_lo," + auc + "_delong_hi," + auc + "_n_pos," + auc + "_n_neg";
  }
  for (const char* m : data::kMarkers) names += std::string(",brier_") + m + ",ece_" + m;
  return names + ",auc_grade_macro_ovr,interval_notes,status";
}

std::string metrics_csv_fields(const EvalSummary& s) {
  auto lo = [](const std::optional<Interval>& i) { return i ? std::optional<double>(i->lower) : std::nullopt; };
  auto hi = [](const std::optional<Interval>& i) { return i ? std::optional<double>(i->upper) : std::nullopt; };
  std::string row = std::to_string(s.n) + "," + number(s.dice_mean) + "," + number(lo(s.dice_mean_ci)) + "," +
                    number(hi(s.dice_mean_ci)) + "," + std::to_string(s.n_dice) + "," + number(s.dice_median);
  for (const SetMetric& metric : set_metrics()) row += "," + number(s.metric(metric.name));
  for (std::size_t m = 0; m < data::kMarkers.size(); ++m)
    row += "," + number(s.auc[m]) + "," + number(lo(s.auc_ci_delong[m])) + "," + number(hi(s.auc_ci_delong[m])) + "," +
           std::to_string(s.n_positive[m]) + "," + std::to_string(s.n_negative[m]);
  std::string notes;
  for (const MissingInterval& missing : missing_intervals(s))
    notes += (notes.empty() ? "" : "; ") +
             (missing.marker ? std::string("auc_") + data::kMarkers[*missing.marker] : std::string("dice_mean")) + ": " +
             missing.reason;
  for (std::size_t m = 0; m < data::kMarkers.size(); ++m) row += "," + number(s.brier[m]) + "," + number(s.ece[m]);
  return row + "," + (s.grade3 ? number(s.grade3->auc_macro) : std::string()) + "," + data::csv_field(notes) + "," +
         (s.diverged ? "diverged" : "ok");
}

std::string cross_site_csv(const Partition& partition, const std::vector<CrossSiteCell>& cells) {
  std::string out = "model,data," + metrics_csv_field_names() + "\n";
  for (const CrossSiteCell& c : cells)
    out += data::csv_field(c.model == kGlobalModel ? "global" : partition.clients[c.model].id) + "," +
           data::csv_field(c.data == kExternalData ? "external" : partition.clients[c.data].id) + "," +
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
         "y_mgmt,y_grade,model,p_grade2,p_grade3,p_grade4,who_grade,set,hd95,volume_ml,reference_volume_ml\n";
}

std::string predictions_csv_rows(int round, const std::vector<CasePrediction>& predictions,
                                 const std::vector<std::string>& models, const std::vector<std::string>& sets) {
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
    rows += "," + label(s.labels.grade) + "," + data::csv_field(sets[i]) + "," + number(p.hd95) + "," +
            number(p.volume_ml) + "," + number(p.reference_volume_ml) + "\n";
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

namespace {

// summary.json's "selected": the round's line, the rule that chose it and its score (or, when
// the final round stands in, why).
json selected_json(const Selection& selection) {
  if (!selection.round) return nullptr;
  json out = round_json(*selection.round);
  out["rule"] = selection.rule;
  out["score"] = optional_json(selection.score);
  if (selection.reason) out["reason"] = *selection.reason;
  return out;
}

json numerics_json(const NumericsReport& numerics) {
  return {{"cpu_numerics", numerics.cpu_numerics},
          {"aten_cpu_capability", numerics.aten_cpu_capability},
          {"onednn_max_cpu_isa", numerics.onednn_max_cpu_isa},
          {"user_environment", numerics.user_environment},
          {"cuda_deterministic", numerics.cuda_deterministic},
          {"threads_per_worker", numerics.threads_per_worker}};
}

}  // namespace

std::string summary_json(const std::vector<RoundRecord>& rounds, const RunTiming& timing, const RunFacts& facts) {
  const RoundRecord* final_eval = nullptr;
  for (const RoundRecord& r : rounds)
    if (r.eval) final_eval = &r;
  json out = {{"rounds", rounds.size()},
              {"seconds_total", timing.seconds_total},
              {"seconds_last_process", timing.seconds_last_process},
              {"processes", timing.processes},
              {"peak_rss_mb", nullptr}};
  // Linux: the process's peak resident set size (VmHWM), for memory benchmarks.
  std::ifstream status("/proc/self/status");
  for (std::string line; std::getline(status, line);)
    if (line.rfind("VmHWM:", 0) == 0) out["peak_rss_mb"] = std::stod(line.substr(6)) / 1024.0;
  out["selected"] = selected_json(select_round(rounds, facts.rule));
  out["final"] = final_eval ? round_json(*final_eval) : json(nullptr);
  out["identity"] = {{"config", facts.config_fingerprint}, {"data", facts.data_fingerprint}};
  out["numerics"] = numerics_json(facts.numerics);
  out["warnings"] = facts.warnings;
  if (!rounds.empty() && rounds.back().privacy) out["privacy"] = privacy_json(*rounds.back().privacy);
  return out.dump(2) + "\n";
}

}  // namespace fedglioma::sim
