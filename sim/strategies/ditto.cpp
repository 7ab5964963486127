// Ditto (Li et al. 2021, "Ditto: Fair and Robust Federated Learning Through Personalization",
// ICML; the authors' code github.com/litian96/ditto): every client contributes to the global model
// as in FedAvg (its update is the sample-weighted mean, label-aware on request) and, next to it,
// trains a personal model v_k of its own from where it left it, with lambda/2 ||v_k - w||^2 pulling
// it towards the round's global model w. The client deploys v_k. lambda = 0 is local training;
// a large lambda keeps v_k at the global model.
#include "sim/strategy/aggregators.h"
#include "sim/state/client_state.h"
#include "sim/strategy/strategy_registry.h"

namespace fedglioma::sim {
namespace {

constexpr const char* kPersonal = "ditto.personal";

// The client side: after its FedAvg contribution, the client trains its personal model from
// where it left it, pulled towards the round's global model by lambda/2 ||v - w||^2.
class PersonalModel : public ClientHook {
 public:
  PersonalModel(FlatParams personal, FlatParams global, double lambda)
      : personal_(std::move(personal)), global_(std::move(global)), lambda_(lambda) {}
  std::optional<PersonalPass> personal_pass() const override {
    return PersonalPass{personal_, lambda_ > 0 ? proximal_hook(lambda_, global_) : nullptr};
  }

 private:
  FlatParams personal_, global_;
  double lambda_;
};

// The mean, and each client's personal model, kept only when the round finishes.
class PersonalKeepingMean : public MeanAggregator {
 public:
  PersonalKeepingMean(const Strategy& strategy, const FlatParams& start)
      : MeanAggregator([](FlatParams mean) { return mean; }, strategy, start), store_(*strategy.context().client_state) {}
  void add(std::size_t client, ClientUpdate update) override {
    pending_.emplace_back(client, std::move(update.personal));
    MeanAggregator::add(client, std::move(update));
  }
  std::optional<FlatParams> finish() override {
    for (auto& [client, personal] : pending_) store_.put(client, kPersonal, std::move(personal));
    pending_.clear();
    return MeanAggregator::finish();
  }

 private:
  ClientStateStore& store_;
  std::vector<std::pair<std::size_t, FlatParams>> pending_;
};

class Ditto : public Strategy {
 public:
  using Strategy::Strategy;
  ClientTask configure(std::size_t client, const FlatParams& global) const override {
    ClientTask t = Strategy::configure(client, global);
    t.hook = std::make_shared<PersonalModel>(model_of(client, global), global, config().param("lambda"));
    return t;
  }
  std::unique_ptr<RoundAggregator> aggregator(const FlatParams& global) override {
    return std::make_unique<PersonalKeepingMean>(*this, global);
  }
  bool personal() const override { return true; }
  FlatParams model_of(std::size_t client, const FlatParams& global) const override {
    FlatParams own = context().client_state->buffer(client, kPersonal);
    return own.empty() ? global : own;
  }
};

}  // namespace

void register_ditto(std::vector<StrategyEntry>& entries) {
  StrategyEntry e;
  e.name = "ditto";
  e.summary = "FedAvg, and a personal model per client pulled towards the global one by lambda";
  e.reference = "Li et al. 2021; the authors' `ditto`";
  e.params = {{"lambda", 1.0, 0.0, 1e6, false, "weight of the pull towards the global model (tuned per dataset in the paper)"},
              label_aware_param()};
  e.keeps_client_state = true;
  e.personal = true;
  e.make = make_as<Ditto>;
  entries.push_back(std::move(e));
}

}  // namespace fedglioma::sim
