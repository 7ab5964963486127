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
#include <torch/types.h>

#include <algorithm>

#include "core/error.h"
#include "sim/strategy/aggregators.h"
#include "sim/state/client_state.h"
#include "sim/strategy/strategy_registry.h"

namespace fedglioma::sim {
namespace {

constexpr const char* kHead = "fedper.head";  // the client's local groups, concatenated

// FedRep's client side: the first `head_epochs` epochs train only the head (its flat ranges),
// the others everything else. A frozen element's gradient is zeroed before each step and its
// value restored after it, so that momentum and weight decay do not move it either.
class Phases : public ClientHook {
 public:
  Phases(FlatRanges head, int head_epochs) : head_(std::move(head)), head_epochs_(head_epochs) {}
  void begin(const std::vector<at::Tensor>& parameters, const c10::Device& device) override {
    parameters_ = parameters;
    std::size_t count = 0;
    for (const auto& p : parameters) count += static_cast<std::size_t>(p.numel());
    FlatParams mask(count, 0.0f);
    for (const auto& [begin, end] : head_)
      for (std::size_t i = begin; i < std::min(end, count); ++i) mask[i] = 1.0f;
    for (const torch::Tensor& view : parameter_views(mask, parameters, device)) head_mask_.push_back(view.clone());
  }
  void begin_epoch(int epoch) override {
    torch::NoGradGuard no_grad;
    const bool head_phase = epoch < head_epochs_;
    trainable_.clear();
    kept_.clear();
    for (std::size_t k = 0; k < parameters_.size(); ++k) {
      trainable_.push_back(head_phase ? head_mask_[k] : 1.0f - head_mask_[k]);
      kept_.push_back(parameters_[k].detach().clone());
    }
  }
  void adjust_gradients() override {
    for (std::size_t k = 0; k < trainable_.size(); ++k)
      if (parameters_[k].mutable_grad().defined()) parameters_[k].mutable_grad().mul_(trainable_[k]);
  }
  void after_step() override {
    torch::NoGradGuard no_grad;
    for (std::size_t k = 0; k < trainable_.size(); ++k)
      parameters_[k].copy_(torch::where(trainable_[k] > 0.5f, parameters_[k], kept_[k]));
  }

 private:
  FlatRanges head_;
  int head_epochs_;
  std::vector<torch::Tensor> parameters_, head_mask_, trainable_, kept_;
};

// The flat ranges of the groups named in local_groups; ConfigError naming a group the model lacks.
FlatRanges local_ranges(const StrategyConfig& config, const StrategyContext& context) {
  if (context.groups.empty())
    throw ConfigError("federation.strategy.local_groups: " + config.name + " keeps parameter groups local, but " +
                      context.missing_groups);
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
    if (rep_) t.hook = std::make_shared<Phases>(head_, context().local_epochs - static_cast<int>(config().param("body_epochs")));
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
