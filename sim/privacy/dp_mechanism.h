#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/aggregate.h"
#include "core/state_bundle.h"
#include "sim/config/experiment_config.h"
#include "sim/privacy/privacy_ledger.h"
#include "sim/record/run_log.h"
#include "sim/strategy/strategy.h"

namespace fedglioma::sim {

/// federation.dp resolved for a run's clients.
struct DpSettings {
  DpConfig config;
  std::vector<std::string> client_ids;
  std::vector<double> weights;  ///< McMahan et al. 2018's capped weights, w_k = min(n_k / cap, 1)
  double total_weight = 0.0;    ///< W, the sum of every client's weight
  double rate = 1.0;            ///< q: each client takes part in a round with this probability
  double delta = 0.0;           ///< config.delta, or 1 / (10 x clients)
  double count_noise = 0.0;     ///< sigma_b: config.count_noise, or expected clients / 20
  std::uint64_t seed = 0;
  /// FedBuff: each aggregate is charged, at q = 1, to the sites whose updates entered it (there
  /// is no sampling to amplify), every update weighs 1 and the sum is divided by K.
  bool charge_contributors = false;
};

/// The settings of `config`'s DP over clients with `samples` training cases each.
DpSettings dp_settings(const ExperimentConfig& config, const std::vector<std::string>& client_ids,
                       const std::vector<std::size_t>& samples);

/// Andrew et al. 2021's noise multiplier on the update sum when the count of unclipped updates is
/// noised with sigma_b: z_update = (z^-2 - (2 sigma_b)^-2)^(-1/2), so that the two releases
/// together are a Gaussian mechanism with multiplier z. z itself when z = 0; std::invalid_argument
/// when sigma_b <= z / 2 (the count alone would use the whole budget).
double update_noise_multiplier(double z, double sigma_b);

/// Refuses (ConfigError naming federation.dp.count_noise) adaptive clipping whose count noise,
/// for `clients` clients, leaves no noise for the updates (sigma_b <= z / 2).
void check_dp_clients(const ExperimentConfig& config, std::size_t clients);

/// Scales `difference` to L2 norm at most `clip` (in place); returns its norm before.
double clip_to_norm(std::vector<double>& difference, double clip);

/// Client-level differential privacy around a strategy (DP-FedAvg, McMahan et al. 2018, with
/// Andrew et al. 2021's adaptive clipping). Each round's participants come from Poisson sampling
/// (each client independently with probability q). Each participant's update difference
/// Delta_k = w_k - w is clipped to L2 norm C and weighted by w_k <= 1; the server adds Gaussian
/// noise N(0, (z C)^2) per coordinate to the sum (central mode: one draw per round) or each
/// client adds N(0, (z C)^2) to its own clipped difference before sending (local mode), and the
/// sum is divided by the expected weight q W, a constant: the average's sensitivity to one client
/// is C / (q W). The strategy then steps from w + that average as from a round's mean (FedAvg
/// takes it, FedAvgM and the FedOpt family take their server step). A round with no participant
/// still releases its noise. Every draw is keyed by (seed, round, client), so the noise is the
/// same whatever the workers or processes and differs between rounds. After each round the
/// release is charged to the per-site ledger (PrivacyLedger): central, every site at (q, z);
/// local, each participant at (1, z). Under FedBuff a server step is a release: its buffer's
/// staleness-corrected differences are clipped, summed and noised, divided by K, and charged at
/// (1, z) to the sites whose updates it holds, so fast sites spend their budget sooner.
class DpMechanism : public BundlePart {
 public:
  explicit DpMechanism(DpSettings settings);

  /// Whether `client` takes part in `round` (Poisson sampling, a keyed draw).
  bool sampled(int round, std::size_t client) const;
  /// The clients that take part in `round`, in client-id order.
  std::vector<std::size_t> participants(int round) const;

  /// The round's aggregator: clips, weights, sums and noises the updates, then hands `inner` (the
  /// strategy's aggregator of the round) the noised mean as its one update.
  std::unique_ptr<RoundAggregator> aggregator(std::unique_ptr<RoundAggregator> inner, const FlatParams& global,
                                              int round);

  /// Charges the finished round to the ledger (its contributors under local DP), moves the
  /// adaptive clip norm, and returns the round's privacy record.
  PrivacyRecord finish_round(int round);
  /// Why the run must stop before `next_round` (it would exceed target_epsilon), or nullopt: with
  /// the round's sampled participants, or (FedBuff) the sites whose updates its aggregate holds.
  std::optional<std::string> stop_before(int next_round) const;
  std::optional<std::string> stop_before(int next_round, const std::vector<std::size_t>& contributors) const;

  /// Whether `site` is retired: its next release would exceed site_target_epsilon. Local DP and
  /// FedBuff no longer take it (a release charges only its contributors); under central DP every
  /// release charges every site, so the target stops the run instead (stop_before).
  bool retired(std::size_t site) const;

  double clip_norm() const { return clip_norm_; }
  const PrivacyLedger& ledger() const { return ledger_; }

  /// The clip norm and the ledger under "dp/" of a checkpoint, and back (IoError when absent).
  void save(StateBundle& out) const override;
  void load(const StateBundle& in) override;

 private:
  class Aggregator;
  std::vector<std::size_t> charged(const std::vector<std::size_t>& contributors) const;

  DpSettings settings_;
  double z_update_;
  double clip_norm_;
  PrivacyLedger ledger_;
  // The round in progress, as its aggregator leaves it.
  std::vector<std::size_t> contributors_;
  std::vector<double> norms_;  // each contributor's, before clipping
  std::size_t unclipped_ = 0;
  double round_clip_ = 0.0;
};

}  // namespace fedglioma::sim
