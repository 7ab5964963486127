#include "sim/strategy/strategy.h"

#include <algorithm>
#include <cmath>

#include "core/random.h"
#include "sim/eval/eval_plan.h"

namespace fedglioma::sim {

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

RoundEval Strategy::aggregate_evaluation(const EvalPlan& plan, const Partition& partition,
                                         const std::vector<CasePrediction>& predictions, std::uint64_t seed) const {
  return summarize_plan(plan, partition, predictions, seed);
}

FlatParams aggregate_round(Strategy& strategy, const FlatParams& global,
                           std::vector<std::pair<std::size_t, ClientUpdate>> updates) {
  const auto aggregator = strategy.aggregator(global);
  for (auto& [client, update] : updates) aggregator->add(client, std::move(update));
  const std::optional<FlatParams> next = aggregator->finish();
  return next ? *next : global;
}

}  // namespace fedglioma::sim
