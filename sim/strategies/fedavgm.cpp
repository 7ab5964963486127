// FedAvgM (Hsu et al. 2019, "Measuring the Effects of Non-Identical Data Distribution for
// Federated Visual Classification"): server momentum on the pseudo-gradient of the weighted mean
// (Flower `FedAvgM`: server_learning_rate 1.0, server_momentum 0.0).
#include "sim/strategy/aggregators.h"
#include "sim/strategy/strategy_registry.h"

namespace fedglioma::sim {
namespace {

class FedAvgM : public Strategy {
 public:
  using Strategy::Strategy;
  std::unique_ptr<RoundAggregator> aggregator(const FlatParams& global) override {
    return std::make_unique<MeanAggregator>([this, global](FlatParams mean) {
      FlatParams next = global;
      fedavgm_step(next, mean, state_, config().param("server_lr"), config().param("server_momentum"));
      return next;
    }, *this, global);
  }
  void save(StateBundle& out) const override { save_server_optimizer(out, state_); }
  void load(const StateBundle& in) override { load_server_optimizer(in, state_); }

 private:
  ServerOptimizerState state_;
};

}  // namespace

void register_fedavgm(std::vector<StrategyEntry>& entries) {
  StrategyEntry e;
  e.name = "fedavgm";
  e.summary = "server momentum on the pseudo-gradient";
  e.reference = "Hsu et al. 2019; Flower `FedAvgM`";
  e.params = {{"server_lr", 1.0, 1e-12, 1e6, false, "server learning rate"},
              {"server_momentum", 0.0, 0.0, 0.999999, false, "server momentum"},
              label_aware_param()};
  e.make = make_as<FedAvgM>;
  entries.push_back(std::move(e));
}

}  // namespace fedglioma::sim
