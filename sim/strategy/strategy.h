#pragma once

#include <cstddef>
#include <map>
#include <memory>
#include <optional>
#include <utility>
#include <vector>

#include "core/aggregate.h"
#include "core/aggregation_rules.h"
#include "core/state_bundle.h"
#include "sim/clients/label_counts.h"
#include "sim/state/client_state.h"
#include "sim/train/client_training.h"
#include "sim/config/experiment_config.h"
#include "sim/state/model_state.h"

namespace fedglioma::sim {

struct CasePrediction;
struct EvalPlan;
struct Partition;
struct RoundEval;

/// What a strategy needs to know about the federation and the model.
struct StrategyContext {
  std::size_t num_clients = 0;
  /// [begin, end) ranges of the flat buffer that belong to normalisation layers (FedBN).
  std::vector<std::pair<std::size_t, std::size_t>> norm_ranges;
  /// Where per-client state lives (SCAFFOLD's c_i, FedBN's norm layers): kept, spilled to disk
  /// and checkpointed by the run, not by the strategy. Needed by scaffold and fedbn.
  ClientStateStore* client_state = nullptr;
  /// Client selection: federation.clients_per_round and min_clients, and the run's seed.
  double clients_per_round = 1.0;
  int min_clients = 1;
  std::uint64_t seed = 0;
  /// The model's parameter groups in the flat buffer (label-aware weights, FedPer's local groups).
  std::vector<FlatGroup> groups = {};
  /// Why `groups` is empty, when it is (Model::missing_groups): what strategies that need the
  /// groups say when they refuse.
  std::string missing_groups = {};
  int local_epochs = 1;  ///< train.local_epochs (FedRep's phases)
  /// What each client's training cases label (label-aware weights), counted once per run from the
  /// partition; by client index.
  std::vector<LabelCounts> client_labels = {};
};

/// One round's aggregation (Flower's aggregate_fit, streamed). The round loop adds each accepted
/// update in client-id order as it arrives and then, when the round has enough of them, asks for
/// the result; a round with too few is dropped unfinished, and the aggregator's destructor forgets
/// it. A streaming aggregator (the weighted mean and the strategies built on it) folds each update
/// and frees it, so a round holds about one update per worker instead of one per client; the
/// others (SCAFFOLD, FedNova, FedMedian, FedTrimmedAvg, Krum) keep the updates until finish().
class RoundAggregator {
 public:
  virtual ~RoundAggregator() = default;
  /// Takes one accepted update (finite parameters and loss), in client-id order.
  virtual void add(std::size_t client, ClientUpdate update) = 0;
  /// The new global model, or nullopt to keep the current one (local mode). Called once, with at
  /// least one update added; commits the strategy's per-round state (norm layers, variates).
  virtual std::optional<FlatParams> finish() = 0;
};

/// A federated strategy in Flower's shape: which clients train in a round (select, Flower's
/// configure_fit sampling), what each starts from and adds to its objective (configure), how
/// their updates become the next global model (aggregator, Flower's aggregate_fit), which model
/// each client deploys (model_of; evaluation asks) and how the evaluation's predictions become
/// the round's metrics (aggregate_evaluation, Flower's aggregate_evaluate). Persistent server state (momentum,
/// moments, the server control variate) lives here and is checkpointed through save/load;
/// per-client state (control variates, local norm layers, local models) lives in the run's
/// ClientStateStore (StrategyContext::client_state). Dropout and failed clients are the round
/// loop's (sim/run/round_loop.h), identical for every strategy. Each strategy lives in its own file in
/// sim/strategies/ and is known by its entry in sim/strategy/strategy_registry.h.
class Strategy {
 public:
  Strategy(StrategyConfig config, const StrategyContext& context);
  virtual ~Strategy() = default;

  const StrategyConfig& config() const { return config_; }
  const StrategyContext& context() const { return context_; }

  /// The clients that train in `round`: a sample of context().clients_per_round of them, at
  /// least min_clients and one, drawn from the run's seed and the round, in client-id order
  /// (Flower sizes its sample as max(int(n * fraction_fit), min_fit_clients) the same way).
  virtual std::vector<std::size_t> select(int round) const;

  /// The task of `client` this round. Called concurrently from worker threads: reads state only.
  virtual ClientTask configure(std::size_t client, const FlatParams& global) const;

  /// The aggregator of a round that starts from `global`.
  virtual std::unique_ptr<RoundAggregator> aggregator(const FlatParams& global) = 0;

  /// Whether clients deploy models of their own (local mode) rather than the global one.
  virtual bool personal() const { return false; }
  /// The model `client` deploys: the global one unless personal().
  virtual FlatParams model_of(std::size_t client, const FlatParams& global) const { return global; }

  /// The round's evaluation from the predictions of `plan`'s cases, in its order. By default
  /// summarize_plan: a global model's predictions pooled per set and site; personal models'
  /// summarised client by client and averaged.
  virtual RoundEval aggregate_evaluation(const EvalPlan& plan, const Partition& partition,
                                         const std::vector<CasePrediction>& predictions, std::uint64_t seed) const;

  /// Adds the strategy's server state to `out` / restores it from `in` (names under "strategy/").
  virtual void save(StateBundle& out) const {}
  virtual void load(const StateBundle& in) {}

 private:
  StrategyConfig config_;
  StrategyContext context_;
};

/// Runs one round of `strategy` from `global` over `updates` (client, update) in order: add each,
/// then finish; the global model afterwards. For tests and tools that aggregate without a loop.
FlatParams aggregate_round(Strategy& strategy, const FlatParams& global,
                           std::vector<std::pair<std::size_t, ClientUpdate>> updates);

}  // namespace fedglioma::sim
