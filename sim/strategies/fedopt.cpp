// The FedOpt family (Reddi et al. 2021, "Adaptive Federated Optimization"): Adagrad, Adam or Yogi
// on the server, stepping along the pseudo-gradient of the weighted mean, with the defaults and
// bias handling of Flower's current `FedAdagrad`, `FedAdam`, `FedYogi` (flwr.serverapp.strategy;
// its older flwr.server.strategy classes default FedAdam's and FedAdagrad's tau to 1e-9).
#include "sim/strategy/aggregators.h"
#include "sim/strategy/strategy_registry.h"

namespace fedglioma::sim {
namespace {

class FedOpt : public Strategy {
 public:
  FedOpt(StrategyConfig config, const StrategyContext& context, FedOptKind kind)
      : Strategy(std::move(config), context), kind_(kind) {}
  std::unique_ptr<RoundAggregator> aggregator(const FlatParams& global) override {
    return std::make_unique<MeanAggregator>([this, global](FlatParams mean) {
      FlatParams next = global;
      fedopt_step(next, mean, state_, kind_, params());
      return next;
    }, *this, global);
  }
  void save(StateBundle& out) const override { save_server_optimizer(out, state_); }
  void load(const StateBundle& in) override { load_server_optimizer(in, state_); }

 private:
  // Flower's FedAdagrad has no momentum and no decay of its second moment: no beta1, beta2.
  FedOptParams params() const {
    const bool adagrad = kind_ == FedOptKind::kAdagrad;
    return {config().param("eta"), adagrad ? 0.0 : config().param("beta1"), adagrad ? 0.0 : config().param("beta2"),
            config().param("tau")};
  }
  FedOptKind kind_;
  ServerOptimizerState state_;
};

StrategyEntry entry(const char* name, FedOptKind kind, const char* summary) {
  const FedOptParams d = fedopt_flower_defaults(kind);
  StrategyEntry e;
  e.name = name;
  e.summary = summary;
  e.reference = std::string("Reddi et al. 2021; Flower `") +
                (kind == FedOptKind::kAdam ? "FedAdam" : kind == FedOptKind::kYogi ? "FedYogi" : "FedAdagrad") + "`";
  e.params.push_back({"eta", d.eta, 1e-12, 1e6, false, "server learning rate"});
  if (kind != FedOptKind::kAdagrad) {
    e.params.push_back({"beta1", d.beta1, 0.0, 0.999999, false, "first-moment decay"});
    e.params.push_back({"beta2", d.beta2, 0.0, 0.999999, false, "second-moment decay"});
  }
  e.params.push_back({"tau", d.tau, 1e-15, 1e6, false, "adaptivity (added to the root of the second moment)"});
  e.params.push_back(label_aware_param());
  e.make = [kind](const StrategyConfig& c, const StrategyContext& context) {
    return std::make_unique<FedOpt>(c, context, kind);
  };
  return e;
}

}  // namespace

void register_fedopt(std::vector<StrategyEntry>& entries) {
  entries.push_back(entry("fedadam", FedOptKind::kAdam, "Adam on the server, bias-corrected as Flower does"));
  entries.push_back(entry("fedyogi", FedOptKind::kYogi, "Yogi on the server"));
  entries.push_back(entry("fedadagrad", FedOptKind::kAdagrad, "Adagrad on the server (no momentum, as Flower)"));
}

}  // namespace fedglioma::sim
