#include "sim/privacy/dp_mechanism.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <stdexcept>

#include "core/double_text.h"
#include "core/error.h"
#include "core/random.h"
#include "sim/strategy/aggregators.h"

namespace fedglioma::sim {
namespace {

// sigma_b: federation.dp.count_noise, or Andrew et al.'s expected clients / 20.
double count_noise_of(const DpConfig& dp, double rate, std::size_t clients) {
  return dp.count_noise > 0 ? dp.count_noise : rate * static_cast<double>(clients) / 20.0;
}

// Whether a release is charged only to the sites whose updates it holds, at q = 1 (local DP, and
// FedBuff's buffers), rather than to every site at the sampling rate.
bool charges_contributors(const DpSettings& s) { return s.config.mode == "local" || s.charge_contributors; }

}  // namespace

DpSettings dp_settings(const ExperimentConfig& config, const std::vector<std::string>& client_ids,
                       const std::vector<std::size_t>& samples) {
  DpSettings s;
  s.config = config.federation.dp;
  s.client_ids = client_ids;
  s.seed = config.runtime.seed;
  s.rate = config.federation.clients_per_round;
  const double n = static_cast<double>(client_ids.size());
  const double cap = s.config.weight_cap > 0 ? s.config.weight_cap
                                             : static_cast<double>(*std::max_element(samples.begin(), samples.end()));
  for (std::size_t k : samples) s.weights.push_back(std::min(static_cast<double>(k) / cap, 1.0));
  for (double w : s.weights) s.total_weight += w;
  s.delta = s.config.delta > 0 ? s.config.delta : 1.0 / (10.0 * n);
  if (config.federation.aggregation == "fedbuff") {  // a buffer of K updates, each of weight 1, no sampling
    s.charge_contributors = true;
    s.rate = 1.0;
    s.weights.assign(client_ids.size(), 1.0);
    s.total_weight = static_cast<double>(config.federation.buffer_size);
  }
  s.count_noise = count_noise_of(s.config, s.rate, client_ids.size());
  return s;
}

double update_noise_multiplier(double z, double sigma_b) {
  if (z == 0.0) return 0.0;
  const double rest = 1.0 / (z * z) - 1.0 / (4.0 * sigma_b * sigma_b);
  if (!(rest > 0.0))
    throw std::invalid_argument("the count's noise sigma_b = " + std::to_string(sigma_b) +
                                " must exceed z / 2 = " + std::to_string(z / 2));
  return 1.0 / std::sqrt(rest);
}

void check_dp_clients(const ExperimentConfig& config, std::size_t clients) {
  const DpConfig& dp = config.federation.dp;
  if (!dp.enabled || !dp.adaptive_clipping) return;
  try {
    update_noise_multiplier(dp.noise_multiplier, count_noise_of(dp, config.federation.clients_per_round, clients));
  } catch (const std::invalid_argument& e) {
    throw ConfigError(std::string("federation.dp.count_noise: ") + e.what() + " (Andrew et al.'s z_update = (z^-2 - "
                      "(2 sigma_b)^-2)^-1/2 needs it; with " + std::to_string(clients) +
                      " client(s) the default, expected clients / 20, is too small): raise it or lower the noise multiplier");
  }
}

double clip_to_norm(std::vector<double>& difference, double clip) {
  double squares = 0.0;
  for (double v : difference) squares += v * v;
  const double norm = std::sqrt(squares);
  if (norm > clip) {
    const double scale = clip / norm;
    for (double& v : difference) v *= scale;
  }
  return norm;
}

// One round: the clipped, weighted sum of the differences (with each client's noise in local
// mode), then the round's noise (central) and the division by q W.
class DpMechanism::Aggregator : public RoundAggregator {
 public:
  Aggregator(DpMechanism& dp, std::unique_ptr<RoundAggregator> inner, const FlatParams& global, int round)
      : dp_(dp), inner_(std::move(inner)), global_(global), round_(round), sum_(global.size(), 0.0) {}

  void add(std::size_t client, ClientUpdate update) override {
    require_weights(update, "federation.dp's clipping");
    std::vector<double> diff(global_.size());
    for (std::size_t k = 0; k < diff.size(); ++k)
      diff[k] = static_cast<double>(update.params[k]) - static_cast<double>(global_[k]);
    const double norm = clip_to_norm(diff, dp_.round_clip_);
    if (norm <= dp_.round_clip_) ++dp_.unclipped_;
    dp_.norms_.push_back(norm);
    if (dp_.settings_.config.mode == "local") add_noise(diff, client, dp_.settings_.config.noise_multiplier);
    const double w = dp_.settings_.weights.at(client);
    for (std::size_t k = 0; k < diff.size(); ++k) sum_[k] += w * diff[k];
    dp_.contributors_.push_back(client);
  }

  std::optional<FlatParams> finish() override {
    if (dp_.settings_.config.mode == "central") add_noise(sum_, kServer, dp_.z_update_);
    const double expected = dp_.settings_.rate * dp_.settings_.total_weight;
    ClientUpdate mean;
    mean.params.resize(global_.size());
    for (std::size_t k = 0; k < sum_.size(); ++k)
      mean.params[k] = static_cast<float>(static_cast<double>(global_[k]) + sum_[k] / expected);
    mean.weight = 1.0;
    inner_->add(0, std::move(mean));
    return inner_->finish();
  }

 private:
  static constexpr std::uint64_t kServer = ~std::uint64_t{0};

  // N(0, (z C)^2) per coordinate from the generator of (seed, round, who).
  void add_noise(std::vector<double>& values, std::uint64_t who, double z) const {
    if (z == 0.0) return;
    Rng rng(derive_seed(dp_.settings_.seed, static_cast<std::uint64_t>(round_), who, RngPurpose::kDpNoise));
    const double sd = z * dp_.round_clip_;
    for (double& v : values) v += sd * rng.normal();
  }

  DpMechanism& dp_;
  std::unique_ptr<RoundAggregator> inner_;
  const FlatParams& global_;
  int round_;
  std::vector<double> sum_;
};

DpMechanism::DpMechanism(DpSettings settings)
    : settings_(std::move(settings)),
      z_update_(settings_.config.adaptive_clipping
                    ? update_noise_multiplier(settings_.config.noise_multiplier, settings_.count_noise)
                    : settings_.config.noise_multiplier),
      clip_norm_(settings_.config.clip_norm),
      ledger_(settings_.client_ids, settings_.delta) {}

bool DpMechanism::sampled(int round, std::size_t client) const {
  if (settings_.rate >= 1.0) return true;
  Rng rng(derive_seed(settings_.seed, static_cast<std::uint64_t>(round), client, RngPurpose::kDpSampling));
  return rng.bernoulli(settings_.rate);
}

std::vector<std::size_t> DpMechanism::participants(int round) const {
  std::vector<std::size_t> out;
  for (std::size_t i = 0; i < settings_.client_ids.size(); ++i)
    if (sampled(round, i) && !retired(i)) out.push_back(i);
  return out;
}

bool DpMechanism::retired(std::size_t site) const {
  const double target = settings_.config.site_target_epsilon;
  if (target <= 0) return false;
  return charges_contributors(settings_) && ledger_.site_after(site, 1.0, settings_.config.noise_multiplier) > target;
}

std::unique_ptr<RoundAggregator> DpMechanism::aggregator(std::unique_ptr<RoundAggregator> inner,
                                                         const FlatParams& global, int round) {
  contributors_.clear();
  norms_.clear();
  unclipped_ = 0;
  round_clip_ = clip_norm_;
  return std::make_unique<Aggregator>(*this, std::move(inner), global, round);
}

std::vector<std::size_t> DpMechanism::charged(const std::vector<std::size_t>& contributors) const {
  if (charges_contributors(settings_)) return contributors;
  std::vector<std::size_t> all(settings_.client_ids.size());
  for (std::size_t i = 0; i < all.size(); ++i) all[i] = i;
  return all;
}

PrivacyRecord DpMechanism::finish_round(int round) {
  const bool local = charges_contributors(settings_);
  ledger_.charge(charged(contributors_), local ? 1.0 : settings_.rate, settings_.config.noise_multiplier);
  PrivacyRecord record;
  const PrivacySpent run = ledger_.run();
  record.epsilon = run.epsilon;
  record.order = run.order;
  record.delta = settings_.delta;
  record.clip_norm = round_clip_;
  record.noise_multiplier = settings_.config.mode == "local" ? settings_.config.noise_multiplier : z_update_;
  for (std::size_t i = 0; i < settings_.client_ids.size(); ++i) record.sites[settings_.client_ids[i]] = ledger_.site(i).epsilon;
  for (std::size_t k = 0; k < contributors_.size(); ++k) record.update_norms[settings_.client_ids[contributors_[k]]] = norms_[k];
  for (std::size_t i = 0; i < settings_.client_ids.size(); ++i)
    if (retired(i)) record.retired.push_back(settings_.client_ids[i]);
  if (settings_.config.adaptive_clipping) {
    // Andrew et al.: b = (unclipped + N(0, sigma_b^2)) / expected clients; C <- C exp(-eta (b - gamma)).
    Rng rng(derive_seed(settings_.seed, static_cast<std::uint64_t>(round), 0, RngPurpose::kDpClipCount));
    const double expected = settings_.rate * static_cast<double>(settings_.client_ids.size());
    const double b = (static_cast<double>(unclipped_) + settings_.count_noise * rng.normal()) / expected;
    record.unclipped_fraction = b;
    clip_norm_ *= std::exp(-settings_.config.clip_lr * (b - settings_.config.target_quantile));
  }
  return record;
}

std::optional<std::string> DpMechanism::stop_before(int next_round) const {
  return stop_before(next_round, participants(next_round));  // local DP: those sampled, at most
}

std::optional<std::string> DpMechanism::stop_before(int next_round, const std::vector<std::size_t>& contributors) const {
  const bool local = charges_contributors(settings_);
  double target = settings_.config.target_epsilon;
  const double site_target = settings_.config.site_target_epsilon;
  if (!local && site_target > 0 && (target <= 0 || site_target < target)) target = site_target;  // all charged alike
  if (target <= 0) return std::nullopt;
  const double after = ledger_.run_after(charged(contributors), local ? 1.0 : settings_.rate,
                                         settings_.config.noise_multiplier);
  if (after <= target) return std::nullopt;
  char text[200];
  const bool by_site = target != settings_.config.target_epsilon;
  std::snprintf(text, sizeof text, "round %d would spend epsilon %.4g, above federation.dp.%s = %g", next_round, after,
                by_site ? "site_target_epsilon" : "target_epsilon", target);
  return std::string(text);
}

void DpMechanism::save(StateBundle& out) const {
  out.integers["dp/clip_norm"] = double_bits(clip_norm_);
  ledger_.save(out);
}

void DpMechanism::load(const StateBundle& in) {
  const auto clip = in.integers.find("dp/clip_norm");
  if (clip == in.integers.end()) throw IoError("the checkpoint holds no differential-privacy state (clip norm)");
  ledger_.load(in);
  clip_norm_ = double_from_bits(clip->second);
}

}  // namespace fedglioma::sim
