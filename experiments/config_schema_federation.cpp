// The config schema's `federation.*` section: rounds, selection, the strategy, the virtual clock,
// deadlines and the asynchronous federations.
#include <nlohmann/json.hpp>

#include <cmath>
#include <set>
#include <string>

#include "core/error.h"
#include "experiments/config_reader.h"
#include "experiments/config_schema_parts.h"
#include "sim/strategy/strategy_registry.h"

namespace fedglioma::experiments {
namespace {

using nlohmann::json;
using sim::ExperimentConfig;
using namespace config_fields;

#define MEMBER(path) [](auto& c) -> auto& { return c.path; }

ConfigField clients_per_round() {
  return {"federation.clients_per_round",
          "<= 1: the fraction of clients sampled per round (floor, at least `min_clients`); > 1: a count",
          [](const ConfigReader& r, ExperimentConfig& c) {
            const double v = r.number("federation.clients_per_round", 1e-9, 1e9);
            if (v > 1 && v != std::floor(v))
              throw ConfigError("federation.clients_per_round: expected a fraction in (0, 1] or a whole count, got " +
                                r.at("federation.clients_per_round").dump());
            c.federation.clients_per_round = v;
          },
          [](const ExperimentConfig& c) { return json(c.federation.clients_per_round); }};
}

ConfigField dropout() {
  return {"federation.dropout", "probability in [0, 1) that a sampled client drops out of a round",
          [](const ConfigReader& r, ExperimentConfig& c) {
            const double v = r.number("federation.dropout", 0.0, 1.0);
            if (v == 1.0)
              throw ConfigError("federation.dropout: 1 drops every client of every round, so nothing would ever "
                                "train; expected a probability in [0, 1)");
            c.federation.dropout = v;
          },
          [](const ExperimentConfig& c) { return json(c.federation.dropout); }};
}

// A strategy's numeric parameter or switch (1 / 0).
double strategy_number(const ConfigReader& r, const std::string& key, const sim::StrategyParam& p) {
  if (p.boolean) return r.boolean(key) ? 1.0 : 0.0;
  if (p.integer) return static_cast<double>(r.integer(key, static_cast<std::int64_t>(p.min), static_cast<std::int64_t>(p.max)));
  return r.number(key, p.min, p.max);
}

// A list of parameter group names (checked against the model when the strategy is built).
std::vector<std::string> group_names(const ConfigReader& r, const std::string& key) {
  const json& v = r.at(key);
  std::vector<std::string> names;
  if (v.is_array())
    for (const json& item : v) {
      if (!item.is_string() || item.get<std::string>().empty()) break;
      names.push_back(item.get<std::string>());
    }
  if (!v.is_array() || names.size() != v.size())
    throw ConfigError(key + ": expected a list of parameter group names (strings), got " + v.dump());
  return names;
}

// federation.strategy: the name and only the named strategy's parameters (sim/strategy/strategy_registry.h),
// so that a parameter of another strategy is an unknown key.
ConfigField strategy() {
  return {"federation.strategy",
          "the aggregation strategy and its parameters (see [Strategies](#strategies)); a bare name is accepted",
          [](const ConfigReader& r, ExperimentConfig& c) {
            const std::vector<std::string> names = sim::strategy_names();
            const std::string name = r.text("federation.strategy.name", {names.begin(), names.end()});
            c.federation.strategy = sim::StrategyConfig::defaults(name);
            for (const sim::StrategyParam& p : sim::strategy_entry(name).params) {
              const std::string key = "federation.strategy." + p.key;
              if (p.default_groups) c.federation.strategy.groups[p.key] = group_names(r, key);
              else c.federation.strategy.params[p.key] = strategy_number(r, key, p);
            }
          },
          [](const ExperimentConfig& c) {
            const sim::StrategyConfig& s = c.federation.strategy;
            json out = {{"name", s.name}};
            for (const sim::StrategyParam& p : sim::strategy_entry(s.name).params) {
              if (p.default_groups) {
                out[p.key] = s.groups.count(p.key) ? s.groups.at(p.key) : *p.default_groups;
                continue;
              }
              const double value = s.params.count(p.key) ? s.params.at(p.key) : p.default_value;
              if (p.boolean) out[p.key] = value != 0.0;
              else if (p.integer) out[p.key] = static_cast<std::int64_t>(value);
              else out[p.key] = value;
            }
            return out;
          }};
}

// A number >= 0 that orders arrivals on the virtual clock: it needs federation.simulated_time.enabled.
template <class Get>
ConfigField clock_option(const std::string& key, Get get, double hi, std::string help) {
  ConfigField f = number(key, get, 0.0, hi, std::move(help));
  f.read = [key, get, read = f.read](const ConfigReader& r, ExperimentConfig& c) {
    read(r, c);
    if (get(c) > 0 && !c.federation.simulated_time.enabled)
      throw ConfigError(key + ": " + r.at(key).dump() +
                        " needs the virtual clock: set federation.simulated_time.enabled to true (and the sites' speeds)");
  };
  return f;
}


// Why `strategy` does not compose with an asynchronous federation, or empty when it does.
std::string async_refusal(const std::string& aggregation, const sim::StrategyConfig& strategy) {
  const std::string& n = strategy.name;
  if (n == "scaffold") return "SCAFFOLD's control variates under staleness are an open research question";
  if (n == "fednova") return "FedNova normalises the local steps of one synchronous round";
  if (n == "fedmedian" || n == "fedtrimmedavg" || n == "krum")
    return "its robustness is defined over one round's updates, not a buffer of stale ones";
  if (n == "fedbn" || n == "fedper" || n == "ditto")
    return "its per-client state is kept round by round and has not been validated under staleness";
  if (aggregation == "fedasync" && n != "fedavg" && n != "fedprox")
    return "FedAsync mixes each update in at once, so there is no mean for a server optimizer to step from; "
           "use fedbuff";
  if (aggregation == "fedasync" && strategy.flag("label_aware"))
    return "FedAsync mixes one update at a time, so there is nothing to weight by label";
  return "";
}

// The synchronous round's options, which an asynchronous federation has no use for.
void refuse_round_options(const ExperimentConfig& c, const std::string& why) {
  const sim::FederationConfig& f = c.federation;
  const auto refuse = [&](const std::string& key, const std::string& value) {
    throw ConfigError(key + " = " + value + ": " + why);
  };
  if (f.deadline_s > 0) refuse("federation.deadline_s", std::to_string(f.deadline_s));
  if (f.over_select > 0) refuse("federation.over_select", std::to_string(f.over_select));
  if (f.dropout > 0) refuse("federation.dropout", std::to_string(f.dropout));
  if (f.clients_per_round != 1.0) refuse("federation.clients_per_round", std::to_string(f.clients_per_round));
  if (f.min_clients != 1) refuse("federation.min_clients", std::to_string(f.min_clients));
  if (c.train.keep_optimizer_state) refuse("train.keep_optimizer_state", "true");
}

// The asynchronous options a synchronous run would ignore.
void refuse_async_options(const sim::FederationConfig& f) {
  const sim::FederationConfig d;
  const auto refuse = [](const std::string& key) {
    throw ConfigError(key + ": only the asynchronous federations use it; set federation.aggregation to \"fedbuff\" "
                      "or \"fedasync\", or remove it");
  };
  if (f.concurrency != d.concurrency) refuse("federation.concurrency");
  if (f.buffer_size != d.buffer_size) refuse("federation.buffer_size");
  if (f.server_lr != d.server_lr) refuse("federation.server_lr");
  if (f.mixing != d.mixing) refuse("federation.mixing");
  if (f.max_staleness != d.max_staleness) refuse("federation.max_staleness");
  if (f.staleness.function != d.staleness.function || f.staleness.exponent != d.staleness.exponent ||
      f.staleness.hinge_a != d.staleness.hinge_a || f.staleness.hinge_b != d.staleness.hinge_b)
    refuse("federation.staleness");
  if (f.simulated_time.budget_s > 0) refuse("federation.simulated_time.budget_s");
}

// What federation.aggregation needs of the rest of the config, checked once it is all read.
void check_aggregation(const ExperimentConfig& c) {
  const sim::FederationConfig& f = c.federation;
  if (f.aggregation == "synchronous") return refuse_async_options(f);
  const std::string what = "federation.aggregation \"" + f.aggregation + "\"";
  if (!f.simulated_time.enabled)
    throw ConfigError(what + " orders updates on the virtual clock: set federation.simulated_time.enabled to true "
                      "(and the sites' speeds or a profile)");
  if (f.mode != "federated") throw ConfigError(what + " needs federation.mode \"federated\", not \"" + f.mode + "\"");
  const std::string refusal = async_refusal(f.aggregation, f.strategy);
  if (!refusal.empty())
    throw ConfigError(what + " does not compose with federation.strategy \"" + f.strategy.name + "\": " + refusal);
  refuse_round_options(c, "a synchronous round's option; " + what + " keeps federation.concurrency clients busy instead");
  if (f.aggregation == "fedbuff" && f.buffer_size < 1)
    throw ConfigError("federation.buffer_size: FedBuff needs K >= 1, the arrivals each server step applies, got " +
                      std::to_string(f.buffer_size));
  if (f.aggregation == "fedasync" && f.buffer_size != 0)
    throw ConfigError("federation.buffer_size: FedAsync applies every arrival at once; remove it or use fedbuff");
  if (f.aggregation == "fedasync" && f.server_lr != 1.0)
    throw ConfigError("federation.server_lr: FedAsync's step is federation.mixing (alpha); remove it");
  if (f.server_lr != 1.0 && f.strategy.name != "fedavg" && f.strategy.name != "fedprox")
    throw ConfigError("federation.server_lr: " + f.strategy.name +
                      " steps with its own server optimizer (its eta); leave federation.server_lr at 1");
}

// `field`, then `check` on the whole config read so far.
ConfigField with_check(ConfigField field, void (*check)(const ExperimentConfig&)) {
  field.read = [read = field.read, check](const ConfigReader& r, ExperimentConfig& c) {
    read(r, c);
    check(c);
  };
  return field;
}

std::vector<ConfigField> round_fields() {
  return {
      text("federation.mode", MEMBER(federation.mode), {"federated", "centralized", "local"},
           "`federated`; `centralized` (all training cases pooled in one client: the upper bound); `local` (each "
           "client trains alone, no aggregation: the lower bound)"),
      integer("federation.rounds", MEMBER(federation.rounds), 1, 100000, "rounds"),
      clients_per_round(),
      integer("federation.min_clients", MEMBER(federation.min_clients), 1, 1000000,
              "fewer usable updates in a round: the round is skipped (global model kept) or the run stops"),
      text("federation.below_min_clients", MEMBER(federation.below_min_clients), {"skip", "stop"}, "`skip` or `stop`"),
      dropout(),
      strategy(),
  };
}

// The virtual clock and the synchronous round's deadline and over-selection.
std::vector<ConfigField> clock_fields() {
  return {
      boolean("federation.simulated_time.enabled", MEMBER(federation.simulated_time.enabled),
              "the virtual clock: each participation's simulated download, training and upload time, logged per client and round, and what `deadline_s` and `over_select` decide by ([the virtual clock](strategies.md#the-virtual-clock))"),
      number("federation.simulated_time.samples_per_second", MEMBER(federation.simulated_time.samples_per_second),
             1e-12, 1e12, "training samples per second of a client's site"),
      number("federation.simulated_time.megabits_per_second", MEMBER(federation.simulated_time.megabits_per_second),
             1e-12, 1e12, "a client's network speed; each round moves the model twice"),
      per_client("federation.simulated_time.site_samples_per_second",
                 MEMBER(federation.simulated_time.site_samples_per_second),
                 "per-client `samples_per_second`, by client id: `{\"site-a\": 0.5}`; an id that is not a client of the "
                 "partition is an error"),
      per_client("federation.simulated_time.site_megabits_per_second",
                 MEMBER(federation.simulated_time.site_megabits_per_second),
                 "per-client `megabits_per_second`, by client id; an id that is not a client of the partition is an error"),
      number("federation.simulated_time.jitter", MEMBER(federation.simulated_time.jitter), 0.0, 0.99,
             "each participation's compute and transfer times times one factor drawn from U(1 - jitter, 1 + jitter), "
             "keyed by (seed, round, client)"),
      text("federation.simulated_time.profile", MEMBER(federation.simulated_time.profile), {"none", "fets2022"},
           "`none` (the speeds above), or `fets2022`: the FeTS challenge's measured per-institution timings (21 "
           "compute, 16 network profiles), one of each assigned to every client by a seeded draw, each time drawn per "
           "participation as max(1, N(mean, sd)) s (see [the clock](strategies.md#the-virtual-clock))"),
      number("federation.simulated_time.budget_s", MEMBER(federation.simulated_time.budget_s), 0.0, 1e12,
             "asynchronous: the run ends at this simulated time (or after `rounds` server steps, whichever is first); "
             "the last step taken is evaluated; `0`: no budget"),
      clock_option("federation.deadline_s", MEMBER(federation.deadline_s), 1e9,
                   "simulated seconds a round waits for updates: a selected client whose update would arrive later is "
                   "cancelled (status `late`), the round lasts until the deadline; `0`: no deadline"),
      clock_option("federation.over_select", MEMBER(federation.over_select), 10.0,
                   "select ceil(x times the round's clients) more, drawn from the others; the first arrivals count, the "
                   "rest are `surplus`; `0`: none"),
  };
}

// The asynchronous federations; the last field checks the whole section (check_aggregation).
std::vector<ConfigField> async_fields() {
  return {
      text("federation.aggregation", MEMBER(federation.aggregation), {"synchronous", "fedbuff", "fedasync"},
           "`synchronous` rounds; `fedbuff` (Nguyen et al. 2022: a server step after every `buffer_size` arrivals) or "
           "`fedasync` (Xie et al. 2019: each arrival mixed in at once), on the virtual clock, one rounds.jsonl line "
           "per server step ([asynchronous federations](strategies.md#asynchronous-federations))"),
      integer("federation.concurrency", MEMBER(federation.concurrency), 0, 1000000,
              "asynchronous: clients training at once (at most the clients); `0`: every client"),
      integer("federation.buffer_size", MEMBER(federation.buffer_size), 0, 1000000,
              "fedbuff: K, the arrivals each server step applies (1 to the clients); required with fedbuff"),
      number("federation.server_lr", MEMBER(federation.server_lr), 1e-6, 1e3,
             "fedbuff: eta_g, the server step along the buffered mean's change (fedavg, fedprox; the FedOpt family "
             "and fedavgm step with their own rate)"),
      number("federation.mixing", MEMBER(federation.mixing), 1e-6, 1.0,
             "fedasync: alpha; each arrival x_i is mixed in as x <- (1 - a) x + a x_i, a = alpha s(tau)"),
      integer("federation.max_staleness", MEMBER(federation.max_staleness), 0, 1000000,
              "asynchronous: an update more than this many server steps old is dropped (status `stale`); `0`: no limit"),
      text("federation.staleness.function", MEMBER(federation.staleness.function), {"constant", "polynomial", "hinge"},
           "asynchronous: s(tau), the weight of an update tau server steps old: `constant` 1, `polynomial` "
           "1 / (1 + tau)^exponent, `hinge` 1 while tau <= b, then 1 / (a (tau - b) + 1)"),
      number("federation.staleness.exponent", MEMBER(federation.staleness.exponent), 0.0, 100.0,
             "polynomial staleness: the exponent (0.5: 1 / sqrt(1 + tau), FedBuff's choice)"),
      number("federation.staleness.hinge_a", MEMBER(federation.staleness.hinge_a), 0.0, 1e6, "hinge staleness: a"),
      with_check(number("federation.staleness.hinge_b", MEMBER(federation.staleness.hinge_b), 0.0, 1e6,
                        "hinge staleness: b, the staleness still weighted 1"),
                 check_aggregation),
  };
}


// The strategies whose aggregate is a mean that DP can replace by its noised one.
bool dp_composes(const sim::StrategyConfig& s) {
  static const std::set<std::string> mean_based = {"fedavg", "fedprox", "fedavgm", "fedadam", "fedyogi", "fedadagrad"};
  return mean_based.count(s.name) && !s.flag("label_aware");
}

// federation.dp needs of the rest of the config, and without it none of its options is set.
void check_dp(const ExperimentConfig& c) {
  const sim::FederationConfig& f = c.federation;
  const sim::DpConfig& dp = f.dp;
  if (!dp.enabled) {
    const sim::DpConfig d;
    if (dp.mode != d.mode || dp.noise_multiplier != d.noise_multiplier || dp.clip_norm != d.clip_norm ||
        dp.adaptive_clipping || dp.target_quantile != d.target_quantile || dp.clip_lr != d.clip_lr ||
        dp.count_noise != d.count_noise || dp.weight_cap != d.weight_cap || dp.delta != d.delta ||
        dp.target_epsilon != d.target_epsilon || dp.site_target_epsilon != d.site_target_epsilon)
      throw ConfigError("federation.dp: its options are set but federation.dp.enabled is false; enable it or remove them");
    return;
  }
  if (f.mode != "federated") throw ConfigError("federation.dp needs federation.mode \"federated\", not \"" + f.mode + "\"");
  if (!dp_composes(f.strategy))
    throw ConfigError("federation.dp does not compose with federation.strategy \"" + f.strategy.name + "\"" +
                      (f.strategy.flag("label_aware") ? " with label_aware (its per-group weights have no bounded sensitivity)"
                                                      : "") +
                      ": it replaces a round's weighted mean by a clipped, noised one, so it wraps fedavg, fedprox, "
                      "fedavgm, fedadam, fedyogi and fedadagrad");
  if (f.aggregation == "fedasync")
    throw ConfigError("federation.dp with federation.aggregation \"fedasync\": FedAsync applies each update alone, "
                      "so one site's update is the whole step; use fedbuff, whose buffer DP clips and noises");
  if (f.aggregation == "fedbuff" && f.dp.mode == "local")
    throw ConfigError("federation.dp.mode \"local\" with fedbuff is not built; use \"central\"");
  if (f.aggregation == "fedbuff" && f.dp.adaptive_clipping)
    throw ConfigError("federation.dp.adaptive_clipping with fedbuff is not built: its count would need the buffer's "
                      "own noise accounting; use a fixed clip_norm");
  if (f.clients_per_round > 1)
    throw ConfigError("federation.clients_per_round: under federation.dp it is each client's Poisson sampling rate, "
                      "a fraction in (0, 1], not a count");
  const std::string why = ": federation.dp samples clients by Poisson sampling, which its accountant assumes, and "
                          "releases every round";
  if (f.deadline_s > 0) throw ConfigError("federation.deadline_s = " + std::to_string(f.deadline_s) + why);
  if (f.over_select > 0) throw ConfigError("federation.over_select = " + std::to_string(f.over_select) + why);
  if (f.min_clients != 1) throw ConfigError("federation.min_clients = " + std::to_string(f.min_clients) + why);
}

std::vector<ConfigField> dp_fields() {
  return {
      boolean("federation.dp.enabled", MEMBER(federation.dp.enabled),
              "client-level differential privacy: clipped, weighted, noised aggregates, Poisson sampling at "
              "`clients_per_round`, and the accountant's epsilon per round ([privacy](strategies.md#differential-privacy))"),
      text("federation.dp.mode", MEMBER(federation.dp.mode), {"central", "local"},
           "`central`: the server noises the sum once per round; `local`: each client noises its own update"),
      number("federation.dp.noise_multiplier", MEMBER(federation.dp.noise_multiplier), 0.0, 1e6,
             "z: the noise's standard deviation over the clip norm (`0`: none, infinite epsilon)"),
      number("federation.dp.clip_norm", MEMBER(federation.dp.clip_norm), 1e-12, 1e30,
             "C: each update difference's L2 norm bound (the initial one with adaptive clipping)"),
      boolean("federation.dp.adaptive_clipping", MEMBER(federation.dp.adaptive_clipping),
              "Andrew et al. 2021: C <- C exp(-clip_lr (b - target_quantile)), b the noised fraction of unclipped updates"),
      number("federation.dp.target_quantile", MEMBER(federation.dp.target_quantile), 0.0, 1.0,
             "adaptive clipping: gamma, the quantile of the update norms C follows"),
      number("federation.dp.clip_lr", MEMBER(federation.dp.clip_lr), 0.0, 10.0, "adaptive clipping: eta_C"),
      number("federation.dp.count_noise", MEMBER(federation.dp.count_noise), 0.0, 1e9,
             "adaptive clipping: sigma_b, the noise on the unclipped count (must exceed z / 2); `0`: expected "
             "clients / 20"),
      number("federation.dp.weight_cap", MEMBER(federation.dp.weight_cap), 0.0, 1e12,
             "McMahan et al. 2018's w-hat: a client weighs min(training cases / cap, 1); `0`: the largest client's cases"),
      number("federation.dp.delta", MEMBER(federation.dp.delta), 0.0, 0.999999,
             "the delta of (epsilon, delta), per site; `0`: 1 / (10 x clients), below 1 / clients since the unit is a site"),
      number("federation.dp.target_epsilon", MEMBER(federation.dp.target_epsilon), 0.0, 1e9,
             "the run stops before a round that would spend more (logged); `0`: no target"),
      with_check(number("federation.dp.site_target_epsilon", MEMBER(federation.dp.site_target_epsilon), 0.0, 1e9,
                        "each site's budget: a site whose next release would exceed it is retired (logged; local DP "
                        "and fedbuff, where a release charges its contributors; under central DP it stops the run); "
                        "`0`: none"),
                 check_dp),
  };
}

}  // namespace

std::vector<ConfigField> federation_fields() {
  std::vector<ConfigField> all;
  for (auto part : {round_fields(), clock_fields(), async_fields(), dp_fields()}) all.insert(all.end(), part.begin(), part.end());
  return all;
}

#undef MEMBER

}  // namespace fedglioma::experiments
