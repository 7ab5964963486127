// Krum / MultiKrum (Blanchard et al. 2017, "Machine Learning with Adversaries: Byzantine Tolerant
// Gradient Descent"): the update closest to its n - f - 2 nearest neighbours, or the mean of the
// to_keep best (Flower `Krum`: num_malicious_clients 0, num_clients_to_keep 0).
#include "sim/strategy/aggregators.h"
#include "sim/strategy/strategy_registry.h"

namespace fedglioma::sim {
namespace {

class Krum : public Strategy {
 public:
  using Strategy::Strategy;
  std::unique_ptr<RoundAggregator> aggregator(const FlatParams&) override {
    const int f = static_cast<int>(config().param("num_malicious")), keep = static_cast<int>(config().param("to_keep"));
    return std::make_unique<BufferedAggregator>(
        [f, keep](const Updates& u) { return krum(params_of(u), weights_of(u), f, keep); });
  }
};

}  // namespace

void register_krum(std::vector<StrategyEntry>& entries) {
  StrategyEntry e;
  e.name = "krum";
  e.summary = "Krum: the update closest to its n - f - 2 neighbours; MultiKrum: the mean of the `to_keep` best";
  e.reference = "Blanchard et al. 2017; Flower `Krum`";
  e.params = {{"num_malicious", 0, 0, 1e6, true, "f, the clients assumed Byzantine"},
              {"to_keep", 0, 0, 1e6, true, "0: Krum (one client); k > 0: MultiKrum over k"}};
  e.make = make_as<Krum>;
  entries.push_back(std::move(e));
}

}  // namespace fedglioma::sim
