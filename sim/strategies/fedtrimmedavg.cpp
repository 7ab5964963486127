// FedTrimmedAvg (Yin et al. 2018): the coordinate-wise mean without the beta share of values at
// each end (Flower `FedTrimmedAvg`, beta 0.2).
#include "sim/strategy/aggregators.h"
#include "sim/strategy/strategy_registry.h"

namespace fedglioma::sim {
namespace {

class FedTrimmedAvg : public Strategy {
 public:
  using Strategy::Strategy;
  std::unique_ptr<RoundAggregator> aggregator(const FlatParams&) override {
    const double beta = config().param("beta");
    return std::make_unique<BufferedAggregator>([beta](const Updates& u) { return trimmed_mean(params_of(u), beta); });
  }
};

}  // namespace

void register_fedtrimmedavg(std::vector<StrategyEntry>& entries) {
  StrategyEntry e;
  e.name = "fedtrimmedavg";
  e.summary = "coordinate-wise mean without the `beta` share at each end";
  e.reference = "Yin et al. 2018; Flower `FedTrimmedAvg`";
  e.params = {{"beta", 0.2, 0.0, 0.499999, false, "share cut at each end"}};
  e.make = make_as<FedTrimmedAvg>;
  entries.push_back(std::move(e));
}

}  // namespace fedglioma::sim
