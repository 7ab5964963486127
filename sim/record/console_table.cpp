#include "sim/record/console_table.h"

#include <cstdio>

#include "data/manifest.h"

namespace fedglioma::sim {
namespace {

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
  out << "\n";
  if (r.eval)
    for (const auto& [set, reason] : diverged_sets(*r.eval))
      out << "fedglioma: warning: round " << r.round << ", " << set << ": " << reason << "\n";
  out << std::flush;
}

std::vector<std::pair<std::string, std::string>> diverged_sets(const RoundEval& e) {
  std::vector<std::pair<std::string, std::string>> out;
  const auto add = [&](const std::string& set, const EvalSummary& s) {
    if (s.diverged) out.emplace_back(set, *s.diverged);
  };
  add("the external set", e.external);
  add("the validation cases", e.val);
  if (e.test) add("the test split", *e.test);
  for (const auto& [site, s] : e.sites) add("site " + site + "'s validation cases", s);
  for (const auto& [client, own] : e.personal) {
    add(client + "'s own model on its validation cases", own.val);
    add(client + "'s own model on the external set", own.external);
  }
  return out;
}

std::vector<std::string> interval_notes(const std::string& where, const RoundEval& eval, std::set<std::string>& seen) {
  std::vector<std::pair<std::string, const EvalSummary*>> sets = {{"external", &eval.external}, {"val", &eval.val}};
  if (eval.test) sets.emplace_back("test", &*eval.test);
  std::vector<std::string> notes;
  auto note = [&](const std::string& set, const std::string& metric, const std::string& why) {
    if (!seen.insert(set + " " + metric).second) return;
    notes.push_back(where + " " + set + ": " + metric + " has no interval (" + why + ")");
  };
  for (const auto& [set, s] : sets) {
    if (s->n == 0 || s->diverged) continue;
    for (const MissingInterval& missing : missing_intervals(*s, true))
      note(set, missing.marker ? std::string("AUC ") + data::kMarkers[*missing.marker] : "mean Dice", missing.reason);
  }
  return notes;
}

}  // namespace fedglioma::sim
