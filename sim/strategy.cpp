#include "sim/strategy.h"

#include <algorithm>
#include <cmath>
#include <functional>

#include "core/error.h"
#include "core/random.h"

namespace fedglioma::sim {
namespace {

// The sample-weighted mean of the round's updates, folded one at a time as they arrive; `step`
// turns the mean into the new global model (FedAvg: the mean itself; Flower's FedAvgM/FedOpt
// aggregate with `aggregate` first and then take a server step from it).
class MeanAggregator : public RoundAggregator {
 public:
  using Step = std::function<FlatParams(FlatParams mean)>;
  explicit MeanAggregator(Step step) : step_(std::move(step)) {}
  void add(std::size_t, ClientUpdate update) override {
    sum_.add(update.params, static_cast<double>(update.samples));
  }
  std::optional<FlatParams> finish() override { return step_(sum_.mean()); }

 private:
  WeightedSum sum_;
  Step step_;
};

// Keeps the round's updates for a rule that needs all of them at once.
class BufferedAggregator : public RoundAggregator {
 public:
  using Rule = std::function<FlatParams(const std::vector<std::pair<std::size_t, ClientUpdate>>& updates)>;
  explicit BufferedAggregator(Rule rule) : rule_(std::move(rule)) {}
  void add(std::size_t client, ClientUpdate update) override { updates_.emplace_back(client, std::move(update)); }
  std::optional<FlatParams> finish() override { return rule_(updates_); }

 private:
  std::vector<std::pair<std::size_t, ClientUpdate>> updates_;
  Rule rule_;
};

using Updates = std::vector<std::pair<std::size_t, ClientUpdate>>;

std::vector<const FlatParams*> params_of(const Updates& updates) {
  std::vector<const FlatParams*> out;
  for (const auto& u : updates) out.push_back(&u.second.params);
  return out;
}

std::vector<double> samples_of(const Updates& updates) {
  std::vector<double> out;
  for (const auto& u : updates) out.push_back(static_cast<double>(u.second.samples));
  return out;
}

// FedAvg (McMahan et al. 2017): the sample-weighted mean (Flower `FedAvg`, `aggregate`).
class FedAvg : public Strategy {
 public:
  using Strategy::Strategy;
  std::unique_ptr<RoundAggregator> aggregator(const FlatParams&) override {
    return std::make_unique<MeanAggregator>([](FlatParams mean) { return mean; });
  }
};

// FedProx (Li et al. 2020): FedAvg aggregation; clients add mu/2 ||w - w_global||^2 (Flower
// `FedProx`, proximal_mu; Flower has no default, ours is 0.01).
class FedProx : public FedAvg {
 public:
  using FedAvg::FedAvg;
  ClientTask configure(std::size_t client, const FlatParams& global) const override {
    ClientTask t = Strategy::configure(client, global);
    t.prox_mu = config().mu;
    return t;
  }
};

void save_optimizer(StateBundle& out, const ServerOptimizerState& s) {
  out.buffers["strategy/m"] = s.m;
  out.buffers["strategy/v"] = s.v;
  out.integers["strategy/step"] = s.step;
}

void load_optimizer(const StateBundle& in, ServerOptimizerState& s) {
  s.m = in.buffers.count("strategy/m") ? in.buffers.at("strategy/m") : std::vector<float>{};
  s.v = in.buffers.count("strategy/v") ? in.buffers.at("strategy/v") : std::vector<float>{};
  s.step = in.integers.count("strategy/step") ? in.integers.at("strategy/step") : 0;
}

// FedAvgM (Hsu et al. 2019): server momentum on the pseudo-gradient (Flower `FedAvgM`,
// server_learning_rate 1.0, server_momentum 0.0).
class FedAvgM : public Strategy {
 public:
  using Strategy::Strategy;
  std::unique_ptr<RoundAggregator> aggregator(const FlatParams& global) override {
    return std::make_unique<MeanAggregator>([this, global](FlatParams mean) {
      FlatParams next = global;
      fedavgm_step(next, mean, state_, config().server_lr, config().server_momentum);
      return next;
    });
  }
  void save(StateBundle& out) const override { save_optimizer(out, state_); }
  void load(const StateBundle& in) override { load_optimizer(in, state_); }

 private:
  ServerOptimizerState state_;
};

// FedAdagrad / FedAdam / FedYogi (Reddi et al. 2021; Flower `FedAdagrad`, `FedAdam`, `FedYogi`).
class FedOpt : public Strategy {
 public:
  FedOpt(StrategyConfig config, const StrategyContext& context, FedOptKind kind)
      : Strategy(std::move(config), context), kind_(kind) {}
  std::unique_ptr<RoundAggregator> aggregator(const FlatParams& global) override {
    return std::make_unique<MeanAggregator>([this, global](FlatParams mean) {
      FlatParams next = global;
      const FedOptParams p{config().eta, config().beta1, config().beta2, config().tau};
      fedopt_step(next, mean, state_, kind_, p);
      return next;
    });
  }
  void save(StateBundle& out) const override { save_optimizer(out, state_); }
  void load(const StateBundle& in) override { load_optimizer(in, state_); }

 private:
  FedOptKind kind_;
  ServerOptimizerState state_;
};

// SCAFFOLD (Karimireddy et al. 2020), option II control variates: each client's c_i persists
// across rounds (and checkpoints); clients add c - c_i to their gradients.
class Scaffold : public Strategy {
 public:
  Scaffold(StrategyConfig config, const StrategyContext& context)
      : Strategy(std::move(config), context), store_(*context.client_state) {}

  ClientTask configure(std::size_t client, const FlatParams& global) const override {
    ClientTask t = Strategy::configure(client, global);
    const FlatParams ci = store_.buffer(client, kControl);
    if (control_.empty() && ci.empty()) return t;
    t.correction.assign(global.size(), 0.0f);
    for (std::size_t i = 0; i < global.size(); ++i)
      t.correction[i] = (control_.empty() ? 0.0f : control_[i]) - (ci.empty() ? 0.0f : ci[i]);
    return t;
  }

  std::unique_ptr<RoundAggregator> aggregator(const FlatParams& global) override {
    return std::make_unique<BufferedAggregator>([this, global](const Updates& updates) {
      std::vector<FlatParams> deltas;
      for (const auto& [client, update] : updates) {
        const FlatParams old = store_.buffer(client, kControl);
        FlatParams updated = scaffold_client_control(old, control_, global, update.params, update.steps,
                                                     context().client_lr);
        FlatParams delta = updated;
        if (!old.empty())
          for (std::size_t i = 0; i < delta.size(); ++i) delta[i] -= old[i];
        deltas.push_back(std::move(delta));
        store_.put(client, kControl, std::move(updated));
      }
      std::vector<const FlatParams*> delta_ptrs;
      for (const FlatParams& d : deltas) delta_ptrs.push_back(&d);
      FlatParams next = global;
      scaffold_server_step(next, control_, params_of(updates), delta_ptrs, context().num_clients, config().server_lr);
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

// FedNova (Wang et al. 2020): updates normalised by each client's local steps.
class FedNova : public Strategy {
 public:
  using Strategy::Strategy;
  std::unique_ptr<RoundAggregator> aggregator(const FlatParams& global) override {
    return std::make_unique<BufferedAggregator>([global](const Updates& updates) {
      std::vector<double> steps;
      for (const auto& u : updates) steps.push_back(static_cast<double>(std::max<std::int64_t>(1, u.second.steps)));
      return fednova(global, params_of(updates), samples_of(updates), steps);
    });
  }
};

// FedBN (Li et al. 2021): normalisation layers stay with the client. A client starts from the
// global weights with its own normalisation layers (from its first round on); the global model
// keeps the sample-weighted mean of them, which is what evaluation on unseen sites uses.
class FedBN : public Strategy {
 public:
  FedBN(StrategyConfig config, const StrategyContext& context)
      : Strategy(std::move(config), context), store_(*context.client_state) {}

  ClientTask configure(std::size_t client, const FlatParams& global) const override {
    ClientTask t = Strategy::configure(client, global);
    const FlatParams own = store_.buffer(client, kNorms);
    if (own.empty()) return t;
    std::size_t at = 0;
    for (const auto& [begin, end] : context().norm_ranges)
      for (std::size_t i = begin; i < end; ++i) t.start[i] = own[at++];
    return t;
  }

  std::unique_ptr<RoundAggregator> aggregator(const FlatParams&) override {
    return std::make_unique<Aggregator>(*this);
  }

 private:
  static constexpr const char* kNorms = "fedbn.norms";  // the client's norm layers, concatenated

  // The mean, and each client's norm layers, kept only when the round finishes.
  class Aggregator : public MeanAggregator {
   public:
    explicit Aggregator(FedBN& owner) : MeanAggregator([](FlatParams mean) { return mean; }), owner_(owner) {}
    void add(std::size_t client, ClientUpdate update) override {
      FlatParams& own = pending_[client];
      for (const auto& [begin, end] : owner_.context().norm_ranges)
        own.insert(own.end(), update.params.begin() + static_cast<std::ptrdiff_t>(begin),
                   update.params.begin() + static_cast<std::ptrdiff_t>(end));
      MeanAggregator::add(client, std::move(update));
    }
    std::optional<FlatParams> finish() override {
      for (auto& [client, norms] : pending_) owner_.store_.put(client, kNorms, std::move(norms));
      pending_.clear();
      return MeanAggregator::finish();
    }

   private:
    FedBN& owner_;
    std::map<std::size_t, FlatParams> pending_;
  };

  ClientStateStore& store_;
};

// A rule over all of a round's parameters at once, with no state of its own.
class ByRule : public Strategy {
 public:
  using Rule = std::function<FlatParams(const StrategyConfig&, const Updates&)>;
  ByRule(StrategyConfig config, const StrategyContext& context, Rule rule)
      : Strategy(std::move(config), context), rule_(std::move(rule)) {}
  std::unique_ptr<RoundAggregator> aggregator(const FlatParams&) override {
    return std::make_unique<BufferedAggregator>([this](const Updates& updates) { return rule_(config(), updates); });
  }

 private:
  Rule rule_;
};

// FedMedian (Yin et al. 2018; Flower `FedMedian`): coordinate-wise median.
FlatParams median_rule(const StrategyConfig&, const Updates& u) { return coordinate_median(params_of(u)); }

// FedTrimmedAvg (Yin et al. 2018; Flower `FedTrimmedAvg`, beta 0.2): coordinate-wise trimmed mean.
FlatParams trimmed_rule(const StrategyConfig& c, const Updates& u) { return trimmed_mean(params_of(u), c.beta); }

// Krum / MultiKrum (Blanchard et al. 2017; Flower `Krum`, num_malicious_clients 0, num_clients_to_keep 0).
FlatParams krum_rule(const StrategyConfig& c, const Updates& u) {
  return krum(params_of(u), samples_of(u), c.num_malicious, c.to_keep);
}

// Local mode: every client trains and keeps its own model; the global model stays the initial one.
class Local : public Strategy {
 public:
  explicit Local(const StrategyContext& context)
      : Strategy(StrategyConfig::defaults("fedavg"), context), store_(*context.client_state) {}
  ClientTask configure(std::size_t client, const FlatParams& global) const override {
    ClientTask t;
    t.start = model_of(client, global);
    return t;
  }
  std::unique_ptr<RoundAggregator> aggregator(const FlatParams&) override {
    return std::make_unique<Keep>(store_);
  }
  bool personal() const override { return true; }
  FlatParams model_of(std::size_t client, const FlatParams& global) const override {
    FlatParams own = store_.buffer(client, kModel);
    return own.empty() ? global : own;
  }

 private:
  static constexpr const char* kModel = "local.model";

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

  ClientStateStore& store_;
};

}  // namespace

StrategyConfig StrategyConfig::defaults(const std::string& name) {
  StrategyConfig c;
  c.name = name;
  if (name == "fedadagrad" || name == "fedadam" || name == "fedyogi") {
    const FedOptParams p = fedopt_flower_defaults(name == "fedadagrad" ? FedOptKind::kAdagrad
                                                  : name == "fedadam"  ? FedOptKind::kAdam
                                                                       : FedOptKind::kYogi);
    c.eta = p.eta;
    c.beta1 = p.beta1;
    c.beta2 = p.beta2;
    c.tau = p.tau;
  }
  return c;
}

const std::vector<std::string>& strategy_names() {
  static const std::vector<std::string> names = {"fedavg",   "fedprox", "fedavgm",   "fedadam",   "fedyogi",
                                                 "fedadagrad", "scaffold", "fednova", "fedbn", "fedmedian",
                                                 "fedtrimmedavg", "krum"};
  return names;
}

Strategy::Strategy(StrategyConfig config, const StrategyContext& context)
    : config_(std::move(config)), context_(context) {}

std::vector<std::size_t> Strategy::select(int round) const {
  const std::size_t n = context_.num_clients;
  std::size_t m = context_.clients_per_round <= 1.0
                      ? static_cast<std::size_t>(std::floor(context_.clients_per_round * static_cast<double>(n) + 1e-9))
                      : static_cast<std::size_t>(context_.clients_per_round);
  m = std::min(n, std::max({m, static_cast<std::size_t>(context_.min_clients), std::size_t{1}}));
  std::vector<std::size_t> all(n);
  for (std::size_t i = 0; i < n; ++i) all[i] = i;
  if (m == n) return all;
  Rng rng(derive_seed(context_.seed, static_cast<std::uint64_t>(round), 0, RngPurpose::kClientSampling));
  rng.shuffle(all);
  all.resize(m);
  std::sort(all.begin(), all.end());
  return all;
}

ClientTask Strategy::configure(std::size_t, const FlatParams& global) const {
  ClientTask t;
  t.start = global;
  return t;
}

FlatParams aggregate_round(Strategy& strategy, const FlatParams& global,
                           std::vector<std::pair<std::size_t, ClientUpdate>> updates) {
  const auto aggregator = strategy.aggregator(global);
  for (auto& [client, update] : updates) aggregator->add(client, std::move(update));
  const std::optional<FlatParams> next = aggregator->finish();
  return next ? *next : global;
}

std::unique_ptr<Strategy> make_local_strategy(const StrategyContext& context) {
  if (!context.client_state) throw std::logic_error("make_local_strategy: needs StrategyContext::client_state");
  return std::make_unique<Local>(context);
}

std::unique_ptr<Strategy> make_strategy(const StrategyConfig& c, const StrategyContext& context) {
  const std::string& n = c.name;
  if ((n == "scaffold" || n == "fedbn") && !context.client_state)
    throw std::logic_error("make_strategy: " + n + " keeps per-client state and needs StrategyContext::client_state");
  if (n == "fedavg") return std::make_unique<FedAvg>(c, context);
  if (n == "fedprox") return std::make_unique<FedProx>(c, context);
  if (n == "fedavgm") return std::make_unique<FedAvgM>(c, context);
  if (n == "fedadam") return std::make_unique<FedOpt>(c, context, FedOptKind::kAdam);
  if (n == "fedyogi") return std::make_unique<FedOpt>(c, context, FedOptKind::kYogi);
  if (n == "fedadagrad") return std::make_unique<FedOpt>(c, context, FedOptKind::kAdagrad);
  if (n == "scaffold") return std::make_unique<Scaffold>(c, context);
  if (n == "fednova") return std::make_unique<FedNova>(c, context);
  if (n == "fedbn") {
    if (context.norm_ranges.empty())
      throw ConfigError("federation.strategy: fedbn needs normalisation layers with parameters (model.norm)");
    return std::make_unique<FedBN>(c, context);
  }
  if (n == "fedmedian") return std::make_unique<ByRule>(c, context, median_rule);
  if (n == "fedtrimmedavg") return std::make_unique<ByRule>(c, context, trimmed_rule);
  if (n == "krum") return std::make_unique<ByRule>(c, context, krum_rule);
  throw ConfigError("federation.strategy.name: unknown strategy '" + n + "'");
}

}  // namespace fedglioma::sim
