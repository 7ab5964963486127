// FedProx (Li et al. 2020, "Federated Optimization in Heterogeneous Networks"): FedAvg's
// aggregation; each client adds mu/2 ||w - w_global||^2 to its local objective (Flower `FedProx`,
// `proximal_mu`, which has no default).
#include "sim/strategy/aggregators.h"
#include "sim/strategy/strategy_registry.h"

namespace fedglioma::sim {
namespace {

class FedProx : public Strategy {
 public:
  using Strategy::Strategy;
  ClientTask configure(std::size_t client, const FlatParams& global) const override {
    ClientTask t = Strategy::configure(client, global);
    // mu 0 adds nothing: no hook, so FedProx with mu 0 is FedAvg bit for bit.
    if (const double mu = config().param("mu"); mu > 0) t.hook = proximal_hook(mu, t.start);
    return t;
  }
  std::unique_ptr<RoundAggregator> aggregator(const FlatParams& global) override {
    return weighted_mean_aggregator(*this, global);
  }
};

}  // namespace

void register_fedprox(std::vector<StrategyEntry>& entries) {
  StrategyEntry e;
  e.name = "fedprox";
  e.summary = "FedAvg; clients add mu/2 ‖w - w_global‖² to their loss";
  e.reference = "Li et al. 2020; Flower `FedProx`";
  e.params = {{"mu", 0.01, 0.0, 1e6, false, "proximal term weight (Flower has no default)"}, label_aware_param()};
  e.make = make_as<FedProx>;
  entries.push_back(std::move(e));
}

}  // namespace fedglioma::sim
