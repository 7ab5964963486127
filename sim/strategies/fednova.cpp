// FedNova (Wang et al. 2020, "Tackling the Objective Inconsistency Problem in Heterogeneous
// Federated Optimization"): each client's update normalised by its number of local steps.
#include <algorithm>

#include "sim/strategy/aggregators.h"
#include "sim/strategy/strategy_registry.h"

namespace fedglioma::sim {
namespace {

class FedNova : public Strategy {
 public:
  using Strategy::Strategy;
  std::unique_ptr<RoundAggregator> aggregator(const FlatParams& global) override {
    return std::make_unique<BufferedAggregator>([global](const Updates& updates) {
      std::vector<double> steps;
      for (const auto& u : updates) steps.push_back(static_cast<double>(std::max<std::int64_t>(1, u.second.steps)));
      return fednova(global, params_of(updates), weights_of(updates), steps);
    });
  }
};

}  // namespace

void register_fednova(std::vector<StrategyEntry>& entries) {
  StrategyEntry e;
  e.name = "fednova";
  e.summary = "updates normalised by each client's local steps";
  e.reference = "Wang et al. 2020";
  e.make = make_as<FedNova>;
  entries.push_back(std::move(e));
}

}  // namespace fedglioma::sim
