// FedAvg (McMahan et al. 2017, "Communication-Efficient Learning of Deep Networks from
// Decentralized Data"): the sample-weighted mean of the clients' weights, as Flower's `FedAvg`
// (`aggregate`).
#include "sim/strategy/aggregators.h"
#include "sim/strategy/strategy_registry.h"

namespace fedglioma::sim {
namespace {

class FedAvg : public Strategy {
 public:
  using Strategy::Strategy;
  std::unique_ptr<RoundAggregator> aggregator(const FlatParams& global) override {
    return weighted_mean_aggregator(*this, global);
  }
};

}  // namespace

void register_fedavg(std::vector<StrategyEntry>& entries) {
  StrategyEntry e;
  e.name = "fedavg";
  e.summary = "sample-weighted mean";
  e.reference = "McMahan et al. 2017; Flower `FedAvg`";
  e.params = {label_aware_param()};
  e.make = make_as<FedAvg>;
  entries.push_back(std::move(e));
}

}  // namespace fedglioma::sim
