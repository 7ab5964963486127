#include "sim/strategy/aggregators.h"

#include <stdexcept>
#include <string>

#include "sim/state/client_state.h"

namespace fedglioma::sim {

std::vector<const FlatParams*> params_of(const Updates& updates) {
  std::vector<const FlatParams*> out;
  for (const auto& u : updates) out.push_back(&u.second.params);
  return out;
}

std::vector<double> weights_of(const Updates& updates) {
  std::vector<double> out;
  for (const auto& u : updates) out.push_back(u.second.weight);
  return out;
}

void require_weights(const ClientUpdate& update, const char* what) {
  if (update.kind != UpdateKind::kWeights)
    throw std::logic_error(std::string(what) + " combines models, but a client sent a weight difference");
}

MeanAggregator::MeanAggregator(Step step, const Strategy& strategy, const FlatParams& start)
    : step_(std::move(step)), client_labels_(strategy.context().client_labels) {
  if (!strategy.config().flag("label_aware")) return;
  label_aware_ = std::make_unique<LabelAwareSum>(strategy.context().groups, start.size());
  start_ = start;
}

void MeanAggregator::add(std::size_t client, ClientUpdate update) {
  require_weights(update, "the weighted mean");
  if (!label_aware_) return sum_.add(update.params, update.weight);
  if (client >= client_labels_.size())
    throw std::logic_error("label-aware aggregation: no label counts for client " + std::to_string(client) +
                           " (StrategyContext::client_labels)");
  label_aware_->add(update.params, update.weight, client_labels_[client]);
}

std::optional<FlatParams> MeanAggregator::finish() {
  return step_(label_aware_ ? label_aware_->mean(start_) : sum_.mean());
}

LocalRangesMean::LocalRangesMean(const Strategy& strategy, const FlatParams& start, FlatRanges ranges, std::string name)
    : MeanAggregator([](FlatParams mean) { return mean; }, strategy, start),
      store_(*strategy.context().client_state), ranges_(std::move(ranges)), name_(std::move(name)) {}

void LocalRangesMean::add(std::size_t client, ClientUpdate update) {
  FlatParams& own = pending_[client];
  for (const auto& [begin, end] : ranges_)
    own.insert(own.end(), update.params.begin() + static_cast<std::ptrdiff_t>(begin),
               update.params.begin() + static_cast<std::ptrdiff_t>(end));
  MeanAggregator::add(client, std::move(update));
}

std::optional<FlatParams> LocalRangesMean::finish() {
  for (auto& [client, values] : pending_) store_.put(client, name_, std::move(values));
  pending_.clear();
  return MeanAggregator::finish();
}

FlatParams with_local_ranges(const FlatParams& global, const ClientStateStore& store, std::size_t client,
                             const FlatRanges& ranges, const std::string& name) {
  FlatParams out = global;
  const FlatParams own = store.buffer(client, name);
  if (own.empty()) return out;
  std::size_t at = 0;
  for (const auto& [begin, end] : ranges)
    for (std::size_t i = begin; i < end; ++i) out[i] = own[at++];
  return out;
}

void BufferedAggregator::add(std::size_t client, ClientUpdate update) {
  require_weights(update, "a buffered round");
  updates_.emplace_back(client, std::move(update));
}

std::optional<FlatParams> BufferedAggregator::finish() { return rule_(updates_); }

std::unique_ptr<RoundAggregator> weighted_mean_aggregator(const Strategy& strategy, const FlatParams& start) {
  return std::make_unique<MeanAggregator>([](FlatParams mean) { return mean; }, strategy, start);
}

void save_server_optimizer(StateBundle& out, const ServerOptimizerState& s) {
  out.buffers["strategy/m"] = s.m;
  out.buffers["strategy/v"] = s.v;
  out.integers["strategy/step"] = s.step;
}

void load_server_optimizer(const StateBundle& in, ServerOptimizerState& s) {
  s.m = in.buffers.count("strategy/m") ? in.buffers.at("strategy/m") : std::vector<float>{};
  s.v = in.buffers.count("strategy/v") ? in.buffers.at("strategy/v") : std::vector<float>{};
  s.step = in.integers.count("strategy/step") ? in.integers.at("strategy/step") : 0;
}

}  // namespace fedglioma::sim
