#include "core/random.h"

#include <algorithm>
#include <cassert>
#include <cmath>

namespace fedglioma {
namespace {

std::uint64_t splitmix64(std::uint64_t& x) {
  std::uint64_t z = (x += 0x9E3779B97F4A7C15ULL);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

std::uint64_t rotl(std::uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

}  // namespace

std::uint64_t derive_seed(std::uint64_t seed, std::uint64_t round, std::uint64_t client,
                          RngPurpose purpose) {
  // Chain the key components through SplitMix64 so that nearby keys give unrelated seeds.
  std::uint64_t x = seed;
  std::uint64_t h = splitmix64(x);
  for (std::uint64_t part : {round, client, static_cast<std::uint64_t>(purpose)}) {
    x = h ^ (part + 0x632BE59BD9B4E019ULL);
    h = splitmix64(x);
  }
  return h;
}

Rng::Rng(std::uint64_t seed) {
  std::uint64_t x = seed;
  for (auto& s : state_) s = splitmix64(x);
}

std::uint64_t Rng::next() {
  const std::uint64_t result = rotl(state_[1] * 5, 7) * 9;
  const std::uint64_t t = state_[1] << 17;
  state_[2] ^= state_[0];
  state_[3] ^= state_[1];
  state_[1] ^= state_[2];
  state_[0] ^= state_[3];
  state_[2] ^= t;
  state_[3] = rotl(state_[3], 45);
  return result;
}

double Rng::uniform() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }

double Rng::uniform(double lo, double hi) { return lo + (hi - lo) * uniform(); }

std::uint64_t Rng::below(std::uint64_t n) {
  assert(n > 0);
  // Rejection sampling removes the modulo bias.
  const std::uint64_t limit = UINT64_MAX - UINT64_MAX % n;
  std::uint64_t v;
  do {
    v = next();
  } while (v >= limit);
  return v % n;
}

double Rng::normal() {
  if (has_spare_) {
    has_spare_ = false;
    return spare_normal_;
  }
  double u1;
  do {
    u1 = uniform();
  } while (u1 <= 0.0);
  const double u2 = uniform();
  const double r = std::sqrt(-2.0 * std::log(u1));
  const double theta = 2.0 * M_PI * u2;
  spare_normal_ = r * std::sin(theta);
  has_spare_ = true;
  return r * std::cos(theta);
}

bool Rng::bernoulli(double p) { return uniform() < p; }

double Rng::gamma(double shape) {
  assert(shape > 0);
  if (shape < 1.0) {
    // Gamma(a) = Gamma(a + 1) * U^(1/a) (Marsaglia and Tsang 2000, section 6).
    double u;
    do {
      u = uniform();
    } while (u <= 0.0);
    return gamma(shape + 1.0) * std::pow(u, 1.0 / shape);
  }
  // Marsaglia and Tsang (2000), "A simple method for generating gamma variables".
  const double d = shape - 1.0 / 3.0, c = 1.0 / std::sqrt(9.0 * d);
  for (;;) {
    double x, v;
    do {
      x = normal();
      v = 1.0 + c * x;
    } while (v <= 0.0);
    v = v * v * v;
    const double u = uniform();
    if (u < 1.0 - 0.0331 * x * x * x * x) return d * v;
    if (u > 0.0 && std::log(u) < 0.5 * x * x + d * (1.0 - v + std::log(v))) return d * v;
  }
}

double Rng::log_gamma(double shape) {
  assert(shape > 0);
  if (shape >= 1.0) return std::log(gamma(shape));
  // log(Gamma(a + 1) * U^(1/a)) = log Gamma(a + 1) + log(U) / a: the same draws as gamma().
  double u;
  do {
    u = uniform();
  } while (u <= 0.0);
  return std::log(gamma(shape + 1.0)) + std::log(u) / shape;
}

std::vector<double> Rng::dirichlet(std::size_t k, double alpha) {
  std::vector<double> p(k);
  if (alpha >= 1.0) {  // no underflow possible: the plain normalisation
    double sum = 0.0;
    for (double& x : p) sum += (x = gamma(alpha));
    for (double& x : p) x /= sum;
    return p;
  }
  for (double& x : p) x = log_gamma(alpha);
  const double top = *std::max_element(p.begin(), p.end());
  double sum = 0.0;
  for (double& x : p) sum += (x = std::exp(x - top));  // the largest is exp(0) = 1: sum >= 1
  for (double& x : p) x /= sum;
  return p;
}

}  // namespace fedglioma
