// FedBN (Li et al. 2021, "FedBN: Federated Learning on Non-IID Features via Local Batch
// Normalization"): normalisation layers stay with the client. A client starts from the global
// weights with its own normalisation layers (from its first round on); the global model keeps the
// sample-weighted mean of them, which is what evaluation on unseen sites uses.
#include "core/error.h"
#include "sim/strategy/aggregators.h"
#include "sim/state/client_state.h"
#include "sim/strategy/strategy_registry.h"

namespace fedglioma::sim {
namespace {

constexpr const char* kNorms = "fedbn.norms";  // the client's norm layers, concatenated

class FedBN : public Strategy {
 public:
  using Strategy::Strategy;
  ClientTask configure(std::size_t client, const FlatParams& global) const override {
    ClientTask t = Strategy::configure(client, global);
    t.start = with_local_ranges(global, *context().client_state, client, context().norm_ranges, kNorms);
    return t;
  }
  std::unique_ptr<RoundAggregator> aggregator(const FlatParams& global) override {
    return std::make_unique<LocalRangesMean>(*this, global, context().norm_ranges, kNorms);
  }
};

}  // namespace

void register_fedbn(std::vector<StrategyEntry>& entries) {
  StrategyEntry e;
  e.name = "fedbn";
  e.summary = "normalisation layers stay with each client; the global model keeps their mean for unseen sites";
  e.reference = "Li et al. 2021";
  e.keeps_client_state = true;
  e.params = {label_aware_param()};
  e.make = [](const StrategyConfig& c, const StrategyContext& context) -> std::unique_ptr<Strategy> {
    if (context.norm_ranges.empty())
      throw ConfigError("federation.strategy: fedbn needs normalisation layers with parameters (model.norm)");
    return std::make_unique<FedBN>(c, context);
  };
  entries.push_back(std::move(e));
}

}  // namespace fedglioma::sim
