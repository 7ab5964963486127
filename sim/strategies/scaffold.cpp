// SCAFFOLD (Karimireddy et al. 2020, "SCAFFOLD: Stochastic Controlled Averaging for Federated
// Learning"), option II control variates: each client's c_i persists across rounds (in the run's
// ClientStateStore, checkpointed with it); clients add c - c_i to every gradient, and the server
// moves by server_lr along the mean update and updates c by the clients' share of their deltas.
// Option II recovers c_i from the weight change through the rate the client trained at (the
// round's, under train.lr_schedule; carried in its update) and its local steps, which holds for
// plain SGD only: momentum, Adam and AdamW are warned about (strategy_warnings).
#include "sim/strategy/aggregators.h"
#include "sim/state/client_state.h"
#include "sim/strategy/strategy_registry.h"

namespace fedglioma::sim {
namespace {

class Scaffold : public Strategy {
 public:
  Scaffold(StrategyConfig config, const StrategyContext& context)
      : Strategy(std::move(config), context), store_(*context.client_state) {}

  ClientTask configure(std::size_t client, const FlatParams& global) const override {
    ClientTask t = Strategy::configure(client, global);
    const FlatParams ci = store_.buffer(client, kControl);
    if (control_.empty() && ci.empty()) return t;
    FlatParams correction(global.size(), 0.0f);
    for (std::size_t i = 0; i < global.size(); ++i)
      correction[i] = (control_.empty() ? 0.0f : control_[i]) - (ci.empty() ? 0.0f : ci[i]);
    t.hook = correction_hook(std::move(correction));
    return t;
  }

  std::unique_ptr<RoundAggregator> aggregator(const FlatParams& global) override {
    return std::make_unique<BufferedAggregator>([this, global](const Updates& updates) {
      std::vector<FlatParams> deltas;
      for (const auto& [client, update] : updates) {
        const FlatParams old = store_.buffer(client, kControl);
        FlatParams updated =
            scaffold_client_control(old, control_, global, update.params, update.steps, update.lr);
        FlatParams delta = updated;
        if (!old.empty())
          for (std::size_t i = 0; i < delta.size(); ++i) delta[i] -= old[i];
        deltas.push_back(std::move(delta));
        store_.put(client, kControl, std::move(updated));
      }
      std::vector<const FlatParams*> delta_ptrs;
      for (const FlatParams& d : deltas) delta_ptrs.push_back(&d);
      FlatParams next = global;
      scaffold_server_step(next, control_, params_of(updates), delta_ptrs, context().num_clients,
                           config().param("server_lr"));
      return next;
    });
  }

  void save(StateBundle& out) const override { out.buffers["strategy/c"] = control_; }
  void load(const StateBundle& in) override {
    control_ = in.buffers.count("strategy/c") ? in.buffers.at("strategy/c") : FlatParams{};
  }

 private:
  static constexpr const char* kControl = "scaffold.c";  // c_i; none before the client's first round
  ClientStateStore& store_;
  FlatParams control_;
};

}  // namespace

void register_scaffold(std::vector<StrategyEntry>& entries) {
  StrategyEntry e;
  e.name = "scaffold";
  e.summary = "control variates (option II), one per client kept across rounds; clients add c - c_i to their gradients";
  e.reference = "Karimireddy et al. 2020";
  e.params = {{"server_lr", 1.0, 1e-12, 1e6, false, "server learning rate"}};
  e.assumes_sgd = true;
  e.keeps_client_state = true;
  e.make = make_as<Scaffold>;
  entries.push_back(std::move(e));
}

}  // namespace fedglioma::sim
