#pragma once

#include <cstddef>
#include <functional>
#include <map>
#include <string>
#include <memory>
#include <optional>
#include <utility>
#include <vector>

#include "core/aggregate.h"
#include "core/aggregation_rules.h"
#include "core/state_bundle.h"
#include "sim/strategy/label_aware.h"
#include "sim/strategy/strategy.h"

namespace fedglioma::sim {

/// A round's updates with their clients, in client-id order.
using Updates = std::vector<std::pair<std::size_t, ClientUpdate>>;

std::vector<const FlatParams*> params_of(const Updates& updates);
std::vector<double> weights_of(const Updates& updates);

/// Throws std::logic_error unless `update` holds weights: the synchronous aggregators (`what`)
/// combine models, not differences (UpdateKind::kDifference).
void require_weights(const ClientUpdate& update, const char* what);

/// The weighted mean (ClientUpdate::weight: the clients' training cases) of the round's updates, folded one at a time as they arrive; `step`
/// turns the mean into the new global model (FedAvg: the mean itself; Flower's FedAvgM and FedOpt
/// aggregate with `aggregate` first and then take a server step from it). With the strategy's
/// label_aware switch on, each parameter group is weighted by the cases that label it instead
/// (sim/strategy/label_aware.h), and a group no client trains keeps its value in `start`.
class MeanAggregator : public RoundAggregator {
 public:
  using Step = std::function<FlatParams(FlatParams mean)>;
  MeanAggregator(Step step, const Strategy& strategy, const FlatParams& start);
  void add(std::size_t client, ClientUpdate update) override;
  std::optional<FlatParams> finish() override;

 private:
  WeightedSum sum_;
  std::unique_ptr<LabelAwareSum> label_aware_;
  FlatParams start_;  // label-aware only
  Step step_;
  const std::vector<LabelCounts>& client_labels_;  // label-aware weights, by client: the strategy's context
};

/// The mean (MeanAggregator), and each client's values in `ranges` kept in the run's
/// ClientStateStore under `name` when the round finishes: FedBN's normalisation layers, FedPer's
/// local groups. The global model keeps the mean of those values too (for sites without their own).
class LocalRangesMean : public MeanAggregator {
 public:
  LocalRangesMean(const Strategy& strategy, const FlatParams& start, FlatRanges ranges, std::string name);
  void add(std::size_t client, ClientUpdate update) override;
  std::optional<FlatParams> finish() override;

 private:
  ClientStateStore& store_;
  FlatRanges ranges_;
  std::string name_;
  std::map<std::size_t, FlatParams> pending_;
};

/// `global` with `client`'s own values in `ranges` (kept under `name` by LocalRangesMean), or
/// `global` itself before the client has any.
FlatParams with_local_ranges(const FlatParams& global, const ClientStateStore& store, std::size_t client,
                             const FlatRanges& ranges, const std::string& name);

/// Keeps the round's updates for a rule that needs all of them at once.
class BufferedAggregator : public RoundAggregator {
 public:
  using Rule = std::function<FlatParams(const Updates& updates)>;
  explicit BufferedAggregator(Rule rule) : rule_(std::move(rule)) {}
  void add(std::size_t client, ClientUpdate update) override;
  std::optional<FlatParams> finish() override;

 private:
  Updates updates_;
  Rule rule_;
};

/// FedAvg's aggregator: the weighted mean itself is the new model.
std::unique_ptr<RoundAggregator> weighted_mean_aggregator(const Strategy& strategy, const FlatParams& start);

/// StrategyEntry::make for a strategy class constructed from (config, context).
template <class S>
std::unique_ptr<Strategy> make_as(const StrategyConfig& config, const StrategyContext& context) {
  return std::make_unique<S>(config, context);
}

/// A server optimizer's state under "strategy/m", "strategy/v", "strategy/step" of a checkpoint.
void save_server_optimizer(StateBundle& out, const ServerOptimizerState& state);
void load_server_optimizer(const StateBundle& in, ServerOptimizerState& state);

}  // namespace fedglioma::sim
