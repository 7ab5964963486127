#include "core/rdp_accountant.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>
#include <string>

namespace fedglioma {
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

// log(e^a + e^b), exact at -inf.
double log_add(double a, double b) {
  if (a == -kInf) return b;
  if (b == -kInf) return a;
  const double hi = std::max(a, b), lo = std::min(a, b);
  return hi + std::log1p(std::exp(lo - hi));
}

// log(e^a - e^b) for a >= b.
double log_sub(double a, double b) {
  if (b == -kInf) return a;
  if (a <= b) return -kInf;  // equal terms cancel; a < b cannot occur in the series below
  return a + std::log1p(-std::exp(b - a));
}

// log(erfc(x)): glibc's erfc keeps its relative accuracy down to its underflow near x = 26;
// beyond, the asymptotic series (its error at x >= 25 is below 1e-15).
double log_erfc(double x) {
  if (x < 25.0) return std::log(std::erfc(x));
  const double inv = 1.0 / (2.0 * x * x);
  double term = 1.0, sum = 1.0;
  for (int n = 1; n <= 6; ++n) {
    term *= -(2.0 * n - 1.0) * inv;
    sum += term;
  }
  return -x * x - std::log(x) - 0.5 * std::log(M_PI) + std::log(sum);
}

// log A_alpha at an integer order: sum over k of C(alpha, k) (1 - q)^(alpha - k) q^k e^((k^2 - k) / (2 z^2)).
double log_a_integer(double q, double z, int alpha) {
  double log_a = -kInf;
  for (int k = 0; k <= alpha; ++k) {
    const double log_binomial = std::lgamma(alpha + 1.0) - std::lgamma(k + 1.0) - std::lgamma(alpha - k + 1.0);
    const double log_term = log_binomial + k * std::log(q) + (alpha - k) * std::log1p(-q) +
                            (static_cast<double>(k) * k - k) / (2.0 * z * z);
    log_a = log_add(log_a, log_term);
  }
  return log_a;
}

// log A_alpha at a fractional order: Mironov et al.'s two series over the generalised binomial
// coefficients, each term weighted by a Gaussian tail split at z0 = z^2 log(1/q - 1) + 1/2,
// summed until both terms fall below e^-30.
double log_a_fractional(double q, double z, double alpha) {
  double log_a0 = -kInf, log_a1 = -kInf, log_binomial = 0.0, sign = 1.0;
  const double z0 = z * z * std::log(1.0 / q - 1.0) + 0.5;
  for (int i = 0;; ++i) {
    if (i > 0) {  // C(alpha, i) = C(alpha, i - 1) (alpha - i + 1) / i, kept as sign and log
      const double factor = (alpha - i + 1.0) / i;
      sign *= factor < 0 ? -1.0 : 1.0;
      log_binomial += std::log(std::fabs(factor));
    }
    const double j = alpha - i;
    const double log_t0 = log_binomial + i * std::log(q) + j * std::log1p(-q);
    const double log_t1 = log_binomial + j * std::log(q) + i * std::log1p(-q);
    const double log_e0 = std::log(0.5) + log_erfc((i - z0) / (std::sqrt(2.0) * z));
    const double log_e1 = std::log(0.5) + log_erfc((z0 - j) / (std::sqrt(2.0) * z));
    const double log_s0 = log_t0 + (static_cast<double>(i) * i - i) / (2.0 * z * z) + log_e0;
    const double log_s1 = log_t1 + (j * j - j) / (2.0 * z * z) + log_e1;
    if (sign > 0) {
      log_a0 = log_add(log_a0, log_s0);
      log_a1 = log_add(log_a1, log_s1);
    } else {
      log_a0 = log_sub(log_a0, log_s0);
      log_a1 = log_sub(log_a1, log_s1);
    }
    if (std::max(log_s0, log_s1) < -30.0) break;
  }
  return log_add(log_a0, log_a1);
}

double rdp_at(double q, double z, double alpha) {
  if (q == 0.0) return 0.0;
  if (z == 0.0) return kInf;
  if (q == 1.0) return alpha / (2.0 * z * z);
  const bool integer = alpha == std::floor(alpha);
  const double log_a = integer ? log_a_integer(q, z, static_cast<int>(alpha)) : log_a_fractional(q, z, alpha);
  return log_a / (alpha - 1.0);
}

}  // namespace

const std::vector<double>& default_rdp_orders() {
  static const std::vector<double> orders = [] {
    std::vector<double> out;
    for (int x = 1; x < 100; ++x) out.push_back(1.0 + x / 10.0);
    for (int x = 12; x < 64; ++x) out.push_back(x);
    return out;
  }();
  return orders;
}

std::vector<double> subsampled_gaussian_rdp(double q, double z, const std::vector<double>& orders) {
  if (!(q >= 0.0 && q <= 1.0)) throw std::invalid_argument("sampling rate " + std::to_string(q) + " is not in [0, 1]");
  if (!(z >= 0.0)) throw std::invalid_argument("noise multiplier " + std::to_string(z) + " is negative");
  std::vector<double> out;
  for (double alpha : orders) {
    if (!(alpha > 1.0)) throw std::invalid_argument("Renyi order " + std::to_string(alpha) + " is not above 1");
    out.push_back(rdp_at(q, z, alpha));
  }
  return out;
}

PrivacySpent privacy_spent(const std::vector<double>& orders, const std::vector<double>& rdp, double delta) {
  if (!(delta > 0.0 && delta < 1.0)) throw std::invalid_argument("delta " + std::to_string(delta) + " is not in (0, 1)");
  PrivacySpent best{kInf, orders.empty() ? 0.0 : orders.front()};
  if (std::all_of(rdp.begin(), rdp.end(), [](double r) { return r == 0.0; })) return {0.0, best.order};  // nothing released
  for (std::size_t i = 0; i < orders.size() && i < rdp.size(); ++i) {
    const double a = orders[i];
    const double eps = rdp[i] + std::log((a - 1.0) / a) - (std::log(delta) + std::log(a)) / (a - 1.0);
    if (eps < best.epsilon) best = {eps, a};
  }
  if (best.epsilon < 0.0) best.epsilon = 0.0;  // no noise is needed for nothing released
  return best;
}

RdpAccountant::RdpAccountant(std::vector<double> orders) : orders_(std::move(orders)), rdp_(orders_.size(), 0.0) {}

void RdpAccountant::add(double q, double z, int steps) {
  const std::vector<double> step = subsampled_gaussian_rdp(q, z, orders_);
  for (std::size_t i = 0; i < rdp_.size(); ++i) rdp_[i] += steps * step[i];
}

PrivacySpent RdpAccountant::spent(double delta) const { return privacy_spent(orders_, rdp_, delta); }

PrivacySpent RdpAccountant::spent_after(double q, double z, double delta) const {
  RdpAccountant next = *this;
  next.add(q, z);
  return next.spent(delta);
}

void RdpAccountant::set_rdp(std::vector<double> rdp) {
  if (rdp.size() != orders_.size())
    throw std::invalid_argument("the accountant has " + std::to_string(orders_.size()) + " orders, not " +
                                std::to_string(rdp.size()));
  rdp_ = std::move(rdp);
}

}  // namespace fedglioma
