#include "sim/record/selection.h"

#include <stdexcept>

#include "data/manifest.h"
#include "sim/record/run_log.h"

namespace fedglioma::sim {
namespace {

std::string trim(const std::string& s) {
  const auto a = s.find_first_not_of(" \t");
  if (a == std::string::npos) return "";
  return s.substr(a, s.find_last_not_of(" \t") - a + 1);
}

std::string known_metrics() {
  std::string out = "val.dice_mean, val.dice_median";
  for (const char* m : data::kMarkers) out += std::string(", val.auc.") + m;
  return out;
}

// A validation metric's value in `summary` (the part after "val."); nullopt if undefined.
std::optional<double> metric_value(const EvalSummary& summary, const std::string& name) {
  if (name == "dice_mean") return summary.dice_mean;
  if (name == "dice_median") return summary.dice_median;
  for (std::size_t m = 0; m < data::kMarkers.size(); ++m)
    if (name == std::string("auc.") + data::kMarkers[m]) return summary.auc[m];
  throw std::logic_error("selection: unchecked metric " + name);
}

void check_metric(const std::string& metric) {
  const auto dot = metric.find('.');
  const std::string set = metric.substr(0, dot);
  if (set == "external" || set == "test" || set == "sites" || set == "personal")
    throw std::invalid_argument("'" + metric + "' is not a validation metric: a round chosen on the " + set +
                                " cases makes every number reported from them optimistic; choose on val.<metric> (" +
                                known_metrics() + ")");
  static const EvalSummary probe;
  try {
    if (set != "val" || dot == std::string::npos) throw std::logic_error("");
    metric_value(probe, metric.substr(dot + 1));
  } catch (const std::logic_error&) {
    throw std::invalid_argument("'" + metric + "' is not a metric fedglioma selects on (known: " + known_metrics() +
                                ", or mean(...) of several)");
  }
}

}  // namespace

SelectionRule parse_selection_rule(const std::string& text) {
  SelectionRule rule{text, {}};
  std::string body = trim(text);
  if (body.rfind("mean(", 0) == 0) {
    if (body.back() != ')') throw std::invalid_argument("'" + text + "': expected mean(a, b, ...) with a closing ')'");
    body = body.substr(5, body.size() - 6);
    for (std::size_t start = 0;;) {
      const auto comma = body.find(',', start);
      rule.metrics.push_back(trim(body.substr(start, comma == std::string::npos ? std::string::npos : comma - start)));
      if (comma == std::string::npos) break;
      start = comma + 1;
    }
    if (rule.metrics.size() == 1 && rule.metrics[0].empty())
      throw std::invalid_argument("'" + text + "': mean() of no metric");
  } else {
    rule.metrics.push_back(body);
  }
  for (const std::string& m : rule.metrics) check_metric(m);
  return rule;
}

std::optional<double> selection_score(const RoundEval& eval, const SelectionRule& rule) {
  if (eval.val.n == 0 || eval.val.diverged) return std::nullopt;
  double sum = 0;
  for (const std::string& metric : rule.metrics) {
    const std::optional<double> v = metric_value(eval.val, metric.substr(4));
    if (!v) return std::nullopt;
    sum += *v;
  }
  return sum / static_cast<double>(rule.metrics.size());
}

Selection select_round(const std::vector<RoundRecord>& rounds, const SelectionRule& rule) {
  Selection best{nullptr, rule.text, std::nullopt, std::nullopt};
  const RoundRecord* final_round = nullptr;
  for (const RoundRecord& r : rounds) {
    if (!r.eval) continue;
    final_round = &r;
    const std::optional<double> score = selection_score(*r.eval, rule);
    if (score && (!best.score || *score > *best.score)) {
      best.round = &r;
      best.score = score;
    }
  }
  if (best.round || !final_round) return best;
  const bool no_val = final_round->eval->val.n == 0;
  return {final_round, "final", std::nullopt,
          no_val ? std::string("the run has no validation cases: the final round is reported")
                 : "'" + rule.text + "' is undefined in every evaluated round: the final round is reported"};
}

}  // namespace fedglioma::sim
