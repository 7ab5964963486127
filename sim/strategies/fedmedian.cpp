// FedMedian (Yin et al. 2018, "Byzantine-Robust Distributed Learning: Towards Optimal Statistical
// Rates"): the coordinate-wise median of the clients' weights (Flower `FedMedian`).
#include "sim/strategy/aggregators.h"
#include "sim/strategy/strategy_registry.h"

namespace fedglioma::sim {
namespace {

class FedMedian : public Strategy {
 public:
  using Strategy::Strategy;
  std::unique_ptr<RoundAggregator> aggregator(const FlatParams&) override {
    return std::make_unique<BufferedAggregator>([](const Updates& u) { return coordinate_median(params_of(u)); });
  }
};

}  // namespace

void register_fedmedian(std::vector<StrategyEntry>& entries) {
  StrategyEntry e;
  e.name = "fedmedian";
  e.summary = "coordinate-wise median";
  e.reference = "Yin et al. 2018; Flower `FedMedian`";
  e.make = make_as<FedMedian>;
  entries.push_back(std::move(e));
}

}  // namespace fedglioma::sim
