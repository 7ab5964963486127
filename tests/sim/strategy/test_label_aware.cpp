// Label-aware aggregation (federation.strategy.label_aware, sim/strategy/label_aware.h): against the numpy
// reference of scripts/make_aggregation_reference.py, through a strategy, and in the config.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "core/aggregate.h"
#include "sim/strategy/aggregators.h"
#include "sim/state/client_state.h"
#include "sim/strategy/label_aware.h"
#include "sim/strategy/strategy.h"
#include "sim/strategy/strategy_registry.h"

namespace {
#include "tests/core/aggregation_reference.inc"

using fedglioma::FlatParams;
using namespace fedglioma::sim;

// Coordinate i of the reference buffers is the group kLabelGroups[i]; the last is in none.
std::vector<FlatGroup> reference_groups() {
  std::vector<FlatGroup> groups;
  for (std::size_t i = 0; i < kLabelGroups.size(); ++i) groups.push_back({kLabelGroups[i], {{i, i + 1}}});
  return groups;
}

LabelCounts reference_counts(std::size_t k) {
  LabelCounts c;
  c.masks = kLabelMasks[k];
  c.any_marker = kLabelAny[k];
  for (std::size_t m = 0; m < 4; ++m) c.markers[m] = kLabelMarkers[k][m];
  return c;
}

// Every client's label counts (StrategyContext::client_labels): the reference's, or every case
// labelled for everything.
std::vector<LabelCounts> reference_labels(bool fully_labelled) {
  std::vector<LabelCounts> labels;
  for (std::size_t k = 0; k < kClients.size(); ++k) {
    const auto n = static_cast<std::size_t>(kSamples[k]);
    labels.push_back(fully_labelled ? LabelCounts{n, n, {n, n, n, n}} : reference_counts(k));
  }
  return labels;
}

std::vector<std::pair<std::size_t, ClientUpdate>> reference_updates() {
  std::vector<std::pair<std::size_t, ClientUpdate>> updates;
  for (std::size_t k = 0; k < kClients.size(); ++k) {
    ClientUpdate u;
    u.params = kClients[k];
    u.samples = static_cast<std::size_t>(kSamples[k]);
    u.weight = kSamples[k];
    updates.emplace_back(k, std::move(u));
  }
  return updates;
}

StrategyConfig fedavg(bool label_aware) {
  StrategyConfig c = StrategyConfig::defaults("fedavg");
  c.params["label_aware"] = label_aware ? 1.0 : 0.0;
  return c;
}

}  // namespace

TEST_CASE("label-aware mean equals the numpy reference, group by group", "[sim][label_aware]") {
  LabelAwareSum sum(reference_groups(), kGlobal0.size());
  const auto labels = reference_labels(false);
  for (auto& [k, u] : reference_updates()) sum.add(u.params, u.weight, labels[k]);
  const FlatParams mean = sum.mean(kGlobal0);
  REQUIRE(mean.size() == kLabelAwareMean.size());
  for (std::size_t i = 0; i < mean.size(); ++i)
    REQUIRE(static_cast<double>(mean[i]) == Approx(kLabelAwareMean[i]).epsilon(1e-6).margin(1e-7));
}

TEST_CASE("label-aware fedavg leaves a marker head untouched when no client labels it", "[sim][label_aware]") {
  StrategyContext context;
  context.num_clients = kClients.size();
  context.groups = reference_groups();
  context.client_labels = reference_labels(false);
  const auto strategy = make_strategy(fedavg(true), context);
  const FlatParams next = aggregate_round(*strategy, kGlobal0, reference_updates());
  // Coordinate 3 is marker:codeletion_1p19q, which no client labels: bit for bit the start.
  REQUIRE(next[3] == kGlobal0[3]);
  // The others follow the reference; without the switch the same round is plain FedAvg.
  for (std::size_t i = 0; i < next.size(); ++i)
    REQUIRE(static_cast<double>(next[i]) == Approx(kLabelAwareMean[i]).epsilon(1e-6).margin(1e-7));
  const auto plain = make_strategy(fedavg(false), context);
  REQUIRE(aggregate_round(*plain, kGlobal0, reference_updates()) ==
          fedglioma::weighted_mean({&kClients[0], &kClients[1], &kClients[2], &kClients[3], &kClients[4]}, kSamples));
}

TEST_CASE("label-aware fedavg over fully labelled clients is fedavg bit for bit", "[sim][label_aware]") {
  StrategyContext context;
  context.num_clients = kClients.size();
  context.groups = reference_groups();
  context.client_labels = reference_labels(true);
  const auto aware = make_strategy(fedavg(true), context);
  const auto plain = make_strategy(fedavg(false), context);
  REQUIRE(aggregate_round(*aware, kGlobal0, reference_updates()) == aggregate_round(*plain, kGlobal0, reference_updates()));
}

TEST_CASE("label_aware is a switch of the mean-based strategies and the FedOpt family only", "[sim][label_aware]") {
  for (const std::string name : {"fedavg", "fedprox", "fedavgm", "fedadam", "fedyogi", "fedadagrad", "fedbn"})
    REQUIRE(StrategyConfig::defaults(name).params.count("label_aware") == 1);
  for (const std::string name : {"krum", "fedmedian", "fedtrimmedavg", "scaffold", "fednova"})
    REQUIRE(StrategyConfig::defaults(name).params.count("label_aware") == 0);
}

TEST_CASE("PartWeightedSum rejects overlapping or out-of-range parts", "[sim][label_aware]") {
  REQUIRE_THROWS_AS(fedglioma::PartWeightedSum(4, {{{0, 2}}, {{1, 3}}}), std::invalid_argument);
  REQUIRE_THROWS_AS(fedglioma::PartWeightedSum(4, {{{2, 5}}}), std::invalid_argument);
  fedglioma::PartWeightedSum sum(3, {{{0, 1}}});
  REQUIRE_THROWS_AS(sum.add({1, 2, 3}, {1.0}), std::invalid_argument);
  REQUIRE_THROWS_AS(sum.add({1, 2, 3}, {1.0, -1.0}), std::invalid_argument);
}
