#pragma once

#include <vector>

namespace fedglioma {

/// The Renyi orders of Opacus's RDPAccountant default: 1.1 to 10.9 in steps of 0.1, then 12 to 63.
const std::vector<double>& default_rdp_orders();

/// The Renyi differential privacy of one step of the Poisson-subsampled Gaussian mechanism
/// (sampling rate q, noise multiplier z: noise standard deviation z times the sensitivity) at
/// each of `orders` (Mironov, Talwar and Zhang 2019, "Renyi Differential Privacy of the Sampled
/// Gaussian Mechanism": the binomial expansion at integer orders, the two erfc series at
/// fractional ones). q = 1 is the plain Gaussian, alpha / (2 z^2); z = 0 is infinite; q = 0 is 0.
/// std::invalid_argument for q outside [0, 1], z < 0 or an order <= 1.
std::vector<double> subsampled_gaussian_rdp(double q, double z, const std::vector<double>& orders);

/// An (epsilon, delta) guarantee and the Renyi order that gave it.
struct PrivacySpent {
  double epsilon = 0.0;
  double order = 0.0;
};

/// The smallest epsilon over `orders` for the total RDP `rdp` (one value per order) at `delta`, by
/// Balle et al. 2020's conversion ("Hypothesis Testing Interpretations and Renyi Differential
/// Privacy", Theorem 21): epsilon = rdp + log((alpha - 1) / alpha) - (log delta + log alpha) / (alpha - 1).
/// Infinite when every order's RDP is (no noise); 0 when every order's is 0 (nothing released:
/// the conversion alone would leave a small positive bound).
PrivacySpent privacy_spent(const std::vector<double>& orders, const std::vector<double>& rdp, double delta);

/// Composes steps of the subsampled Gaussian mechanism: RDP adds up order by order.
class RdpAccountant {
 public:
  explicit RdpAccountant(std::vector<double> orders = default_rdp_orders());

  /// Adds `steps` steps at sampling rate q and noise multiplier z.
  void add(double q, double z, int steps = 1);
  /// The guarantee so far at `delta`.
  PrivacySpent spent(double delta) const;
  /// The guarantee there would be after one more step (q, z), without taking it.
  PrivacySpent spent_after(double q, double z, double delta) const;

  const std::vector<double>& orders() const { return orders_; }
  /// The RDP so far, one value per order (a checkpoint keeps it); set_rdp restores it and throws
  /// std::invalid_argument when its length is not the number of orders.
  const std::vector<double>& rdp() const { return rdp_; }
  void set_rdp(std::vector<double> rdp);

 private:
  std::vector<double> orders_;
  std::vector<double> rdp_;
};

}  // namespace fedglioma
