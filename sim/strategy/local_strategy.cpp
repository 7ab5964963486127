#include "sim/strategy/local_strategy.h"

#include <stdexcept>

#include "sim/state/client_state.h"

namespace fedglioma::sim {
namespace {

constexpr const char* kModel = "local.model";

// Each client's new model becomes its own when the round finishes; nothing is averaged.
class Keep : public RoundAggregator {
 public:
  explicit Keep(ClientStateStore& store) : store_(store) {}
  void add(std::size_t client, ClientUpdate update) override { pending_.emplace_back(client, std::move(update.params)); }
  std::optional<FlatParams> finish() override {
    for (auto& [client, params] : pending_) store_.put(client, kModel, std::move(params));
    return std::nullopt;
  }

 private:
  ClientStateStore& store_;
  std::vector<std::pair<std::size_t, FlatParams>> pending_;
};

class Local : public Strategy {
 public:
  explicit Local(const StrategyContext& context) : Strategy(StrategyConfig{}, context) {}
  ClientTask configure(std::size_t client, const FlatParams& global) const override {
    ClientTask t;
    t.start = model_of(client, global);
    return t;
  }
  std::unique_ptr<RoundAggregator> aggregator(const FlatParams&) override {
    return std::make_unique<Keep>(*context().client_state);
  }
  bool personal() const override { return true; }
  FlatParams model_of(std::size_t client, const FlatParams& global) const override {
    FlatParams own = context().client_state->buffer(client, kModel);
    return own.empty() ? global : own;
  }
};

}  // namespace

std::unique_ptr<Strategy> make_local_strategy(const StrategyContext& context) {
  if (!context.client_state) throw std::logic_error("make_local_strategy: needs StrategyContext::client_state");
  return std::make_unique<Local>(context);
}

}  // namespace fedglioma::sim
