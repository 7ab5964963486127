#pragma once

#include <cstddef>
#include <map>
#include <memory>
#include <utility>
#include <vector>

#include "core/aggregate.h"
#include "core/aggregation_rules.h"
#include "core/state_bundle.h"
#include "sim/client_state.h"
#include "sim/client_training.h"
#include "sim/experiment_config.h"

namespace fedglioma::sim {

/// What a strategy needs to know about the federation and the model.
struct StrategyContext {
  std::size_t num_clients = 0;
  /// [begin, end) ranges of the flat buffer that belong to normalisation layers (FedBN).
  std::vector<std::pair<std::size_t, std::size_t>> norm_ranges;
  double client_lr = 0.0;  ///< train.lr (SCAFFOLD's control-variate update, option II)
  /// Where per-client state lives (SCAFFOLD's c_i, FedBN's norm layers): kept, spilled to disk
  /// and checkpointed by the run, not by the strategy. Needed by scaffold and fedbn.
  ClientStateStore* client_state = nullptr;
};

/// One accepted client update, as strategies see it.
struct ClientResult {
  std::size_t client = 0;
  const ClientUpdate* update = nullptr;
};

/// A federated aggregation strategy: what each client starts from and adds to its local
/// objective (task), and how the round's updates become the next global model (aggregate).
/// Persistent server state (momentum, moments, the server control variate) lives here and is
/// checkpointed through save/load; per-client state (control variates, local norm layers) lives in
/// the run's ClientStateStore (StrategyContext::client_state). Client selection, dropout and
/// failures are the round loop's (sim/experiment.cpp), identical for every strategy.
class Strategy {
 public:
  explicit Strategy(StrategyConfig config) : config_(std::move(config)) {}
  virtual ~Strategy() = default;

  const StrategyConfig& config() const { return config_; }

  /// The task of `client` this round. Called concurrently from worker threads: reads state only.
  virtual ClientTask task(std::size_t client, const FlatParams& global) const;

  /// Folds the round's accepted updates (client-id order, at least one) into `global`. For a
  /// folding strategy this is fold() for each, then finish().
  virtual void aggregate(FlatParams& global, const std::vector<ClientResult>& results);

  /// Strategies built on the weighted mean (FedAvg, FedProx, FedAvgM, the FedOpt family, FedBN)
  /// take the round's updates one at a time, in client-id order, as they arrive (fold), and
  /// update the model at the end (finish); a round then holds about one update per worker
  /// instead of one per client. `discard` forgets a round's folds (a skipped round). Others
  /// (SCAFFOLD, FedNova, FedMedian, FedTrimmedAvg, Krum) need every update at once.
  virtual bool folds() const { return false; }
  virtual void fold(const FlatParams& global, const ClientResult& result) {}
  virtual void finish(FlatParams& global) {}
  virtual void discard() {}

  /// Adds the strategy's server state to `out` / restores it from `in` (names under "strategy/").
  virtual void save(StateBundle& out) const {}
  virtual void load(const StateBundle& in) {}

 protected:
  /// The clients' parameters and their sample counts, in result order.
  static std::vector<const FlatParams*> params_of(const std::vector<ClientResult>& results);
  static std::vector<double> samples_of(const std::vector<ClientResult>& results);

 private:
  StrategyConfig config_;
};

/// The strategy `config.name` names: fedavg, fedprox, fedavgm, fedadam, fedyogi, fedadagrad,
/// scaffold, fednova, fedbn, fedmedian, fedtrimmedavg, krum. Throws ConfigError for another name
/// or for a model that FedBN cannot use (no normalisation parameters).
std::unique_ptr<Strategy> make_strategy(const StrategyConfig& config, const StrategyContext& context);

/// The strategy names make_strategy knows, in documentation order.
const std::vector<std::string>& strategy_names();

}  // namespace fedglioma::sim
