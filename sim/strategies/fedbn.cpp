// FedBN (Li et al. 2021, "FedBN: Federated Learning on Non-IID Features via Local Batch
// Normalization"): normalisation layers stay with the client. A client starts from the global
// weights with its own normalisation layers (from its first round on); the global model keeps the
// sample-weighted mean of them, which is what evaluation on unseen sites uses.
#include <map>

#include "core/error.h"
#include "sim/aggregators.h"
#include "sim/client_state.h"
#include "sim/strategy_registry.h"

namespace fedglioma::sim {
namespace {

constexpr const char* kNorms = "fedbn.norms";  // the client's norm layers, concatenated

// The mean, and each client's norm layers, kept only when the round finishes.
class NormKeepingMean : public MeanAggregator {
 public:
  NormKeepingMean(const Strategy& strategy, const FlatParams& start)
      : MeanAggregator([](FlatParams mean) { return mean; }, strategy, start), context_(strategy.context()) {}
  void add(std::size_t client, ClientUpdate update) override {
    FlatParams& own = pending_[client];
    for (const auto& [begin, end] : context_.norm_ranges)
      own.insert(own.end(), update.params.begin() + static_cast<std::ptrdiff_t>(begin),
                 update.params.begin() + static_cast<std::ptrdiff_t>(end));
    MeanAggregator::add(client, std::move(update));
  }
  std::optional<FlatParams> finish() override {
    for (auto& [client, norms] : pending_) context_.client_state->put(client, kNorms, std::move(norms));
    pending_.clear();
    return MeanAggregator::finish();
  }

 private:
  const StrategyContext& context_;
  std::map<std::size_t, FlatParams> pending_;
};

class FedBN : public Strategy {
 public:
  using Strategy::Strategy;
  ClientTask configure(std::size_t client, const FlatParams& global) const override {
    ClientTask t = Strategy::configure(client, global);
    const FlatParams own = context().client_state->buffer(client, kNorms);
    if (own.empty()) return t;
    std::size_t at = 0;
    for (const auto& [begin, end] : context().norm_ranges)
      for (std::size_t i = begin; i < end; ++i) t.start[i] = own[at++];
    return t;
  }
  std::unique_ptr<RoundAggregator> aggregator(const FlatParams& global) override {
    return std::make_unique<NormKeepingMean>(*this, global);
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
