// FedPer (Arivazhagan et al. 2019, "Federated Learning with Personalization Layers"): the parameter
// groups named in federation.strategy.local_groups (default: the four marker heads) stay with each
// client; everything else is the sample-weighted mean (label-aware on request). A client starts
// each round from the global model with its own local groups (from its first round on) and deploys
// that model; the global model keeps the mean of the local groups, which is what unseen sites use.
//
// FedRep (Collins et al. 2021, "Exploiting Shared Representations for Personalized Federated
// Learning", ICML): the same split, and each client's local epochs train the head alone first and
// then the body (the shared representation) alone, as the authors' code does
// (github.com/lgcollins/FedRep: `local_ep` epochs, the last `local_rep_ep` of them, default 1, for
// the representation): here train.local_epochs epochs, the last body_epochs of them for the body.
#include <algorithm>

#include "core/error.h"
#include "sim/strategy/aggregators.h"
#include "sim/state/client_state.h"
#include "sim/strategy/strategy_registry.h"

namespace fedglioma::sim {
namespace {

constexpr const char* kHead = "fedper.head";  // the client's local groups, concatenated

// The flat ranges of the groups named in local_groups; ConfigError naming a group the model lacks.
FlatRanges local_ranges(const StrategyConfig& config, const StrategyContext& context) {
  FlatRanges ranges;
  for (const std::string& name : config.group_list("local_groups")) {
    const auto it = std::find_if(context.groups.begin(), context.groups.end(),
                                 [&](const FlatGroup& g) { return g.name == name; });
    if (it == context.groups.end()) {
      std::string known;
      for (const FlatGroup& g : context.groups) known += (known.empty() ? "" : ", ") + g.name;
      throw ConfigError("federation.strategy.local_groups: the model has no parameter group '" + name +
                        "' (its groups: " + known + ")");
    }
    ranges.insert(ranges.end(), it->ranges.begin(), it->ranges.end());
  }
  std::sort(ranges.begin(), ranges.end());
  return ranges;
}

class FedPer : public Strategy {
 public:
  FedPer(StrategyConfig config, const StrategyContext& context, bool rep)
      : Strategy(std::move(config), context), head_(local_ranges(this->config(), this->context())), rep_(rep) {
    if (rep_ && this->config().param("body_epochs") > this->context().local_epochs)
      throw ConfigError("federation.strategy.body_epochs: " + std::to_string(static_cast<int>(this->config().param("body_epochs"))) +
                        " is more than train.local_epochs (" + std::to_string(this->context().local_epochs) + ")");
  }
  ClientTask configure(std::size_t client, const FlatParams& global) const override {
    ClientTask t = Strategy::configure(client, global);
    t.start = model_of(client, global);
    if (rep_) {
      t.head = head_;
      t.head_epochs = context().local_epochs - static_cast<int>(config().param("body_epochs"));
    }
    return t;
  }
  std::unique_ptr<RoundAggregator> aggregator(const FlatParams& global) override {
    return std::make_unique<LocalRangesMean>(*this, global, head_, kHead);
  }
  bool personal() const override { return true; }
  FlatParams model_of(std::size_t client, const FlatParams& global) const override {
    return with_local_ranges(global, *context().client_state, client, head_, kHead);
  }

 private:
  FlatRanges head_;
  bool rep_;
};

StrategyParam local_groups_param() {
  StrategyParam p;
  p.key = "local_groups";
  p.default_groups = std::vector<std::string>{"marker:idh", "marker:codeletion_1p19q", "marker:mgmt", "marker:grade"};
  p.help = "the parameter groups that stay with each client: `encoder`, `mask_decoder`, `marker_trunk`, `marker:<name>`";
  return p;
}

}  // namespace

void register_fedper(std::vector<StrategyEntry>& entries) {
  StrategyEntry per;
  per.name = "fedper";
  per.summary = "personalisation layers: the named parameter groups stay with each client, the rest is averaged";
  per.reference = "Arivazhagan et al. 2019";
  per.params = {local_groups_param(), label_aware_param()};
  per.keeps_client_state = true;
  per.personal = true;
  per.make = [](const StrategyConfig& c, const StrategyContext& context) -> std::unique_ptr<Strategy> {
    return std::make_unique<FedPer>(c, context, false);
  };
  StrategyEntry rep = per;
  rep.name = "fedrep";
  rep.summary = "FedPer whose clients train the local groups alone, then the rest alone";
  rep.reference = "Collins et al. 2021; the authors' `local_rep_ep`";
  rep.params = {local_groups_param(),
                {"body_epochs", 1, 0, 1e6, true, "the last local epochs, which train the body with the head frozen"},
                label_aware_param()};
  rep.make = [](const StrategyConfig& c, const StrategyContext& context) -> std::unique_ptr<Strategy> {
    return std::make_unique<FedPer>(c, context, true);
  };
  entries.push_back(std::move(per));
  entries.push_back(std::move(rep));
}

}  // namespace fedglioma::sim
