#include "sim/run_log.h"

#include <nlohmann/json.hpp>

#include <cstdio>
#include <sstream>

#include "data/manifest.h"

namespace fedglioma::sim {
namespace {

using nlohmann::json;

json optional_json(const std::optional<double>& v) { return v ? json(*v) : json(nullptr); }

json eval_json(const EvalSummary& s) {
  json auc = json::object();
  for (std::size_t m = 0; m < data::kMarkers.size(); ++m) auc[data::kMarkers[m]] = optional_json(s.auc[m]);
  return {{"n", s.n},
          {"dice_mean", optional_json(s.dice_mean)},
          {"dice_median", optional_json(s.dice_median)},
          {"hd95_median", optional_json(s.hd95_median)},
          {"auc", auc}};
}

json round_eval_json(const RoundEval& e) {
  json out = {{"external", eval_json(e.external)}, {"val", eval_json(e.val)}};
  if (e.test) out["test"] = eval_json(*e.test);
  json sites = json::object();
  for (const auto& [site, summary] : e.sites) sites[site] = eval_json(summary);
  out["sites"] = sites;
  return out;
}

json round_json(const RoundRecord& r) {
  json clients = json::array();
  for (const ClientRecord& c : r.clients)
    clients.push_back({{"id", c.id}, {"samples", c.samples}, {"train_loss", optional_json(c.train_loss)},
                       {"status", c.status}});
  json out = {{"round", r.round}, {"seconds", r.seconds}, {"clients", clients}};
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
  std::string row = std::to_string(round) + "," + set + "," + std::to_string(s.n) + "," + number(s.dice_mean) +
                    "," + number(s.dice_median) + "," + number(s.hd95_median);
  for (const auto& auc : s.auc) row += "," + number(auc);
  return row + "\n";
}

std::string cell(const std::optional<double>& v, int width) {
  char buf[32];
  if (v) {
    std::snprintf(buf, sizeof buf, "%*.3f", width, *v);
  } else {
    std::snprintf(buf, sizeof buf, "%*s", width, "-");
  }
  return buf;
}

std::optional<double> weighted_loss(const RoundRecord& r) {
  double sum = 0, weight = 0;
  for (const ClientRecord& c : r.clients)
    if (c.train_loss) {
      sum += *c.train_loss * static_cast<double>(c.samples);
      weight += static_cast<double>(c.samples);
    }
  return weight > 0 ? std::optional<double>(sum / weight) : std::nullopt;
}

}  // namespace

std::string round_json_line(const RoundRecord& record) { return round_json(record).dump(); }

std::string metrics_csv_header() {
  return "round,set,n,dice_mean,dice_median,hd95_median,auc_idh,auc_codeletion_1p19q,auc_mgmt,auc_grade\n";
}

std::string metrics_csv_rows(const RoundRecord& record) {
  if (!record.eval) return "";
  const RoundEval& e = *record.eval;
  std::string rows = csv_row(record.round, "external", e.external) + csv_row(record.round, "val", e.val);
  if (e.test) rows += csv_row(record.round, "test", *e.test);
  for (const auto& [site, summary] : e.sites) rows += csv_row(record.round, "site:" + site, summary);
  return rows;
}

std::string predictions_csv_header() {
  return "round,case_id,site,split,dice,p_idh,p_codeletion_1p19q,p_mgmt,p_grade,y_idh,y_codeletion_1p19q,"
         "y_mgmt,y_grade\n";
}

std::string predictions_csv_rows(int round, const std::vector<CasePrediction>& predictions) {
  std::string rows;
  for (const CasePrediction& p : predictions) {
    const data::Sample& s = *p.sample;
    rows += std::to_string(round) + "," + s.id + "," + s.site + "," + s.split + "," + number(p.dice);
    for (double prob : p.prob) rows += "," + number(prob);
    for (std::size_t m = 0; m < data::kMarkers.size(); ++m) rows += "," + label(s.labels.binary(m));
    rows += "\n";
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

std::string summary_json(const std::vector<RoundRecord>& rounds, double total_seconds) {
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
  json out = {{"rounds", rounds.size()}, {"seconds_total", total_seconds}};
  out["final"] = final_eval ? round_json(*final_eval) : json(nullptr);
  out["best"] = best ? round_json(*best) : json(nullptr);
  out["best_by"] = best && best->eval->external.n ? "external.dice_mean" : "val.dice_mean";
  return out.dump(2) + "\n";
}

void print_round_header(std::ostream& out) {
  out << "round  seconds  train_loss  ext_dice  auc_idh  auc_1p19q  auc_mgmt  auc_grade\n";
}

void print_round_row(std::ostream& out, const RoundRecord& r) {
  char head[64];
  std::snprintf(head, sizeof head, "%5d  %7.1f  ", r.round, r.seconds);
  out << head << cell(weighted_loss(r), 10);
  if (r.eval) {
    const EvalSummary& e = r.eval->external.n ? r.eval->external : r.eval->val;
    out << cell(e.dice_mean, 10) << cell(e.auc[0], 9) << cell(e.auc[1], 11) << cell(e.auc[2], 10)
        << cell(e.auc[3], 11);
  }
  out << "\n" << std::flush;
}

}  // namespace fedglioma::sim
