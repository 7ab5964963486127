#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace fedglioma::sim {

struct CasePrediction;

/// A per-round metric of a set of cases (the external set, the pooled validation cases, each
/// site's, each personal model's), declared once. Its name is its key in the eval blocks of
/// rounds.jsonl and summary.json, and its column in metrics.csv and cross_site.csv (after
/// dice_median, in the table's order); rounds.jsonl's reader reads it back, and local mode's
/// mean over models averages it where it is defined. A new metric is its function in
/// core/metrics.{h,cpp} and one line in the table (sim/eval/set_metrics.cpp).
struct SetMetric {
  std::string name;
  /// The metric of a set from its predictions (in the set's order); nullopt where undefined.
  std::function<std::optional<double>(const std::vector<const CasePrediction*>& predictions)> compute;
  /// Written into the eval blocks only where defined (a key absent reads as undefined), so that
  /// runs that never define it (the BraTS sub-region metrics of a whole-tumour run) log exactly
  /// what they did before it existed. Its metrics.csv column is always there, empty where undefined.
  bool only_where_defined = false;
};

/// The table, in column order.
const std::vector<SetMetric>& set_metrics();

/// Adds a metric to the table at run time (tests, tools); its name must be new.
void add_set_metric(SetMetric metric);

/// Takes a metric added at run time out of the table again.
void remove_set_metric(const std::string& name);

}  // namespace fedglioma::sim
