#include "sim/eval/set_metrics.h"

#include <mutex>
#include <stdexcept>

#include "core/metrics.h"
#include "sim/eval/evaluation.h"

namespace fedglioma::sim {
namespace {

// The median over the cases that have `value` (those with a mask, for the distances).
std::optional<double> median_of(const std::vector<const CasePrediction*>& predictions,
                                std::optional<double> CasePrediction::*value) {
  std::vector<double> values;
  for (const CasePrediction* p : predictions)
    if (p->*value) values.push_back(*(p->*value));
  return median(values);
}

std::vector<SetMetric>& table() {
  static std::vector<SetMetric> metrics = {
      {"hd95_median", [](const auto& p) { return median_of(p, &CasePrediction::hd95); }},
      // The BraTS sub-regions (model.segmentation "brats_regions"), over the cases whose masks have them.
      {"dice_tc_median", [](const auto& p) { return median_of(p, &CasePrediction::dice_tc); }, true},
      {"dice_et_median", [](const auto& p) { return median_of(p, &CasePrediction::dice_et); }, true},
      {"hd95_tc_median", [](const auto& p) { return median_of(p, &CasePrediction::hd95_tc); }, true},
      {"hd95_et_median", [](const auto& p) { return median_of(p, &CasePrediction::hd95_et); }, true},
  };
  return metrics;
}

std::mutex& table_mutex() {
  static std::mutex m;
  return m;
}

}  // namespace

const std::vector<SetMetric>& set_metrics() {
  std::lock_guard<std::mutex> lock(table_mutex());
  return table();
}

void add_set_metric(SetMetric metric) {
  std::lock_guard<std::mutex> lock(table_mutex());
  for (const SetMetric& m : table())
    if (m.name == metric.name) throw std::logic_error("add_set_metric: '" + metric.name + "' is already declared");
  table().push_back(std::move(metric));
}

void remove_set_metric(const std::string& name) {
  std::lock_guard<std::mutex> lock(table_mutex());
  auto& all = table();
  for (auto it = all.begin(); it != all.end(); ++it)
    if (it->name == name) {
      all.erase(it);
      return;
    }
}

}  // namespace fedglioma::sim
