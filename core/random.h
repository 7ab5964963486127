#pragma once

#include <cstdint>
#include <vector>

namespace fedglioma {

/// What a random stream is used for; part of the key a stream is derived from, so that two
/// purposes never share draws (DESIGN.md, "Determinism").
enum class RngPurpose : std::uint64_t {
  kModelInit = 1,
  kDataOrder = 2,
  kAugment = 3,
  kClientSampling = 4,
  kValidationSplit = 5,
  kSynthCohort = 6,
  kSynthCase = 7,
  kPartition = 8,
  kDropout = 9,        ///< clients dropping out of a round (federation.dropout)
  kBootstrap = 10,
  kModelDropout = 11,  ///< dropout masks inside the network (model.dropout)
  kFineTune = 12,      ///< eval.finetune_epochs: fine-tuning's data order and augmentation (as the run seed)
  kSimulatedTime = 13, ///< federation.simulated_time: site profiles (round 0) and each participation's draws
  kOverSelect = 14,    ///< federation.over_select: the extra clients of a round
  kAsyncSelect = 15,   ///< federation.aggregation fedbuff/fedasync: the idle client a free slot takes
  kDpSampling = 16,    ///< federation.dp: whether a client takes part in a round (Poisson sampling)
  kDpNoise = 17,       ///< federation.dp: the Gaussian noise of a round (central) or a client's (local)
  kDpClipCount = 18,   ///< federation.dp.adaptive_clipping: the noise on the count of unclipped updates
};

/// Derives an independent 64-bit seed from (run seed, round, client, purpose) with SplitMix64
/// mixing. The same key gives the same seed on every platform and thread.
std::uint64_t derive_seed(std::uint64_t seed, std::uint64_t round, std::uint64_t client,
                          RngPurpose purpose);

/// A small, portable pseudo-random generator (xoshiro256**, Blackman and Vigna 2018) with the
/// distributions the project needs implemented here, so draws are identical across standard
/// libraries (std::normal_distribution and friends are implementation-defined).
class Rng {
 public:
  explicit Rng(std::uint64_t seed);

  /// Uniform 64-bit integer.
  std::uint64_t next();
  /// Uniform double in [0, 1).
  double uniform();
  /// Uniform double in [lo, hi).
  double uniform(double lo, double hi);
  /// Uniform integer in [0, n); n must be positive.
  std::uint64_t below(std::uint64_t n);
  /// Standard normal draw (Box-Muller; both values of a pair are used).
  double normal();
  /// True with probability p.
  bool bernoulli(double p);
  /// Gamma(shape, 1) draw (Marsaglia-Tsang); shape must be positive.
  double gamma(double shape);
  /// The logarithm of a Gamma(shape, 1) draw, exact where the draw itself underflows (a shape of
  /// 1e-3 gives values like e^-700).
  double log_gamma(double shape);
  /// A draw from the symmetric Dirichlet(alpha, ..., alpha) over k categories. For alpha < 1 the
  /// gamma draws are normalised in log space, so a tiny alpha gives the skew it asks for (nearly
  /// all mass on one category) instead of underflowing to equal shares.
  std::vector<double> dirichlet(std::size_t k, double alpha);
  /// Fisher-Yates shuffle of `values` in place.
  template <typename T>
  void shuffle(std::vector<T>& values) {
    for (std::size_t i = values.size(); i > 1; --i) {
      std::size_t j = static_cast<std::size_t>(below(i));
      std::swap(values[i - 1], values[j]);
    }
  }

 private:
  std::uint64_t state_[4];
  double spare_normal_ = 0.0;
  bool has_spare_ = false;
};

}  // namespace fedglioma
