#include "sim/strategy.h"

#include <algorithm>

#include "core/error.h"

namespace fedglioma::sim {
namespace {

// The sample-weighted mean of the round's updates, folded one at a time: FedAvg's aggregate and
// the starting point of the server optimisers (Flower's FedAvgM/FedOpt aggregate with
// `aggregate` first).
class MeanFold : public Strategy {
 public:
  using Strategy::Strategy;
  bool folds() const override { return true; }
  void fold(const FlatParams&, const ClientResult& r) override {
    sum_.add(r.update->params, static_cast<double>(r.update->samples));
  }
  void discard() override { sum_ = WeightedSum(); }

 protected:
  FlatParams take_mean() {
    FlatParams mean = sum_.mean();
    sum_ = WeightedSum();
    return mean;
  }

 private:
  WeightedSum sum_;
};

// FedAvg (McMahan et al. 2017): the sample-weighted mean (Flower `FedAvg`, `aggregate`).
class FedAvg : public MeanFold {
 public:
  using MeanFold::MeanFold;
  void finish(FlatParams& global) override { global = take_mean(); }
};

// FedProx (Li et al. 2020): FedAvg aggregation; clients add mu/2 ||w - w_global||^2 (Flower
// `FedProx`, proximal_mu; Flower has no default, ours is 0.01).
class FedProx : public FedAvg {
 public:
  using FedAvg::FedAvg;
  ClientTask task(std::size_t client, const FlatParams& global) const override {
    ClientTask t = Strategy::task(client, global);
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
class FedAvgM : public MeanFold {
 public:
  using MeanFold::MeanFold;
  void finish(FlatParams& global) override {
    fedavgm_step(global, take_mean(), state_, config().server_lr, config().server_momentum);
  }
  void save(StateBundle& out) const override { save_optimizer(out, state_); }
  void load(const StateBundle& in) override { load_optimizer(in, state_); }

 private:
  ServerOptimizerState state_;
};

// FedAdagrad / FedAdam / FedYogi (Reddi et al. 2021; Flower `FedAdagrad`, `FedAdam`, `FedYogi`).
class FedOpt : public MeanFold {
 public:
  FedOpt(StrategyConfig config, FedOptKind kind) : MeanFold(std::move(config)), kind_(kind) {}
  void finish(FlatParams& global) override {
    const FedOptParams p{config().eta, config().beta1, config().beta2, config().tau};
    fedopt_step(global, take_mean(), state_, kind_, p);
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
      : Strategy(std::move(config)), clients_(context.num_clients), lr_(context.client_lr), store_(*context.client_state) {}

  ClientTask task(std::size_t client, const FlatParams& global) const override {
    ClientTask t = Strategy::task(client, global);
    const FlatParams ci = store_.buffer(client, kControl);
    if (control_.empty() && ci.empty()) return t;
    t.correction.assign(global.size(), 0.0f);
    for (std::size_t i = 0; i < global.size(); ++i)
      t.correction[i] = (control_.empty() ? 0.0f : control_[i]) - (ci.empty() ? 0.0f : ci[i]);
    return t;
  }

  void aggregate(FlatParams& global, const std::vector<ClientResult>& results) override {
    std::vector<FlatParams> deltas;
    for (const ClientResult& r : results) {
      const FlatParams old = store_.buffer(r.client, kControl);
      FlatParams updated = scaffold_client_control(old, control_, global, r.update->params, r.update->steps, lr_);
      FlatParams delta = updated;
      if (!old.empty())
        for (std::size_t i = 0; i < delta.size(); ++i) delta[i] -= old[i];
      deltas.push_back(std::move(delta));
      store_.put(r.client, kControl, std::move(updated));
    }
    std::vector<const FlatParams*> delta_ptrs;
    for (const FlatParams& d : deltas) delta_ptrs.push_back(&d);
    scaffold_server_step(global, control_, params_of(results), delta_ptrs, clients_, config().server_lr);
  }

  void save(StateBundle& out) const override { out.buffers["strategy/c"] = control_; }
  void load(const StateBundle& in) override {
    control_ = in.buffers.count("strategy/c") ? in.buffers.at("strategy/c") : FlatParams{};
  }

 private:
  static constexpr const char* kControl = "scaffold.c";  // c_i; none before the client's first round
  std::size_t clients_;
  double lr_;
  ClientStateStore& store_;
  FlatParams control_;
};

// FedNova (Wang et al. 2020): updates normalised by each client's local steps.
class FedNova : public Strategy {
 public:
  using Strategy::Strategy;
  void aggregate(FlatParams& global, const std::vector<ClientResult>& results) override {
    std::vector<double> steps;
    for (const ClientResult& r : results) steps.push_back(static_cast<double>(std::max<std::int64_t>(1, r.update->steps)));
    global = fednova(global, params_of(results), samples_of(results), steps);
  }
};

// FedBN (Li et al. 2021): normalisation layers stay with the client. A client starts from the
// global weights with its own normalisation layers (from its first round on); the global model
// keeps the sample-weighted mean of them, which is what evaluation on unseen sites uses.
class FedBN : public FedAvg {
 public:
  FedBN(StrategyConfig config, const StrategyContext& context)
      : FedAvg(std::move(config)), ranges_(context.norm_ranges), store_(*context.client_state) {}

  ClientTask task(std::size_t client, const FlatParams& global) const override {
    ClientTask t = Strategy::task(client, global);
    const FlatParams own = store_.buffer(client, kNorms);
    if (own.empty()) return t;
    std::size_t at = 0;
    for (const auto& [begin, end] : ranges_)
      for (std::size_t i = begin; i < end; ++i) t.start[i] = own[at++];
    return t;
  }

  void fold(const FlatParams& global, const ClientResult& r) override {
    FlatParams& own = pending_[r.client];  // kept only when the round is not skipped
    for (const auto& [begin, end] : ranges_)
      own.insert(own.end(), r.update->params.begin() + static_cast<std::ptrdiff_t>(begin),
                 r.update->params.begin() + static_cast<std::ptrdiff_t>(end));
    FedAvg::fold(global, r);
  }
  void finish(FlatParams& global) override {
    for (auto& [client, norms] : pending_) store_.put(client, kNorms, std::move(norms));
    pending_.clear();
    FedAvg::finish(global);
  }
  void discard() override {
    pending_.clear();
    FedAvg::discard();
  }


 private:
  static constexpr const char* kNorms = "fedbn.norms";  // the client's norm layers, concatenated
  std::vector<std::pair<std::size_t, std::size_t>> ranges_;
  ClientStateStore& store_;
  std::map<std::size_t, FlatParams> pending_;
};

// FedMedian (Yin et al. 2018; Flower `FedMedian`): coordinate-wise median.
class FedMedian : public Strategy {
 public:
  using Strategy::Strategy;
  void aggregate(FlatParams& global, const std::vector<ClientResult>& results) override {
    global = coordinate_median(params_of(results));
  }
};

// FedTrimmedAvg (Yin et al. 2018; Flower `FedTrimmedAvg`, beta 0.2): coordinate-wise trimmed mean.
class FedTrimmedAvg : public Strategy {
 public:
  using Strategy::Strategy;
  void aggregate(FlatParams& global, const std::vector<ClientResult>& results) override {
    global = trimmed_mean(params_of(results), config().beta);
  }
};

// Krum / MultiKrum (Blanchard et al. 2017; Flower `Krum`, num_malicious_clients 0, num_clients_to_keep 0).
class Krum : public Strategy {
 public:
  using Strategy::Strategy;
  void aggregate(FlatParams& global, const std::vector<ClientResult>& results) override {
    global = krum(params_of(results), samples_of(results), config().num_malicious, config().to_keep);
  }
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

void Strategy::aggregate(FlatParams& global, const std::vector<ClientResult>& results) {
  if (!folds()) throw std::logic_error("Strategy::aggregate: not implemented by " + config_.name);
  for (const ClientResult& r : results) fold(global, r);
  finish(global);
}

ClientTask Strategy::task(std::size_t, const FlatParams& global) const {
  ClientTask t;
  t.start = global;
  return t;
}

std::vector<const FlatParams*> Strategy::params_of(const std::vector<ClientResult>& results) {
  std::vector<const FlatParams*> out;
  for (const ClientResult& r : results) out.push_back(&r.update->params);
  return out;
}

std::vector<double> Strategy::samples_of(const std::vector<ClientResult>& results) {
  std::vector<double> out;
  for (const ClientResult& r : results) out.push_back(static_cast<double>(r.update->samples));
  return out;
}

std::unique_ptr<Strategy> make_strategy(const StrategyConfig& c, const StrategyContext& context) {
  const std::string& n = c.name;
  if ((n == "scaffold" || n == "fedbn") && !context.client_state)
    throw std::logic_error("make_strategy: " + n + " keeps per-client state and needs StrategyContext::client_state");
  if (n == "fedavg") return std::make_unique<FedAvg>(c);
  if (n == "fedprox") return std::make_unique<FedProx>(c);
  if (n == "fedavgm") return std::make_unique<FedAvgM>(c);
  if (n == "fedadam") return std::make_unique<FedOpt>(c, FedOptKind::kAdam);
  if (n == "fedyogi") return std::make_unique<FedOpt>(c, FedOptKind::kYogi);
  if (n == "fedadagrad") return std::make_unique<FedOpt>(c, FedOptKind::kAdagrad);
  if (n == "scaffold") return std::make_unique<Scaffold>(c, context);
  if (n == "fednova") return std::make_unique<FedNova>(c);
  if (n == "fedbn") {
    if (context.norm_ranges.empty())
      throw ConfigError("federation.strategy: fedbn needs normalisation layers with parameters (model.norm)");
    return std::make_unique<FedBN>(c, context);
  }
  if (n == "fedmedian") return std::make_unique<FedMedian>(c);
  if (n == "fedtrimmedavg") return std::make_unique<FedTrimmedAvg>(c);
  if (n == "krum") return std::make_unique<Krum>(c);
  throw ConfigError("federation.strategy.name: unknown strategy '" + n + "'");
}

}  // namespace fedglioma::sim
