// The Renyi-DP accountant (core/rdp_accountant.h) against independent reference values: the
// Poisson-subsampled Gaussian's Renyi divergence by mpmath quadrature and its (epsilon, delta)
// (scripts/make_rdp_reference.py -> tests/core/rdp_reference.inc), to a relative 1e-6.
#include <catch2/catch.hpp>

#include <cmath>
#include <vector>

#include "core/rdp_accountant.h"

namespace {
#include "tests/core/rdp_reference.inc"
}  // namespace

using fedglioma::RdpAccountant;

TEST_CASE("the accountant's orders are Opacus's default", "[core][dp]") {
  const auto& orders = fedglioma::default_rdp_orders();
  REQUIRE(orders.size() == 99 + 52);
  REQUIRE(orders.front() == 1.1);
  REQUIRE(orders[98] == Approx(10.9));
  REQUIRE(orders[99] == 12.0);
  REQUIRE(orders.back() == 63.0);
  REQUIRE(orders == kRdpOrders);
}

TEST_CASE("the subsampled Gaussian's RDP at every order equals the quadrature to 1e-6", "[core][dp]") {
  for (const RdpReference& ref : kRdpReference) {
    INFO("q " << ref.q << ", z " << ref.z);
    const std::vector<double> rdp = fedglioma::subsampled_gaussian_rdp(ref.q, ref.z, kRdpOrders);
    for (std::size_t i = 0; i < rdp.size(); ++i) {
      INFO("order " << kRdpOrders[i]);
      REQUIRE(rdp[i] == Approx(ref.rdp[i]).epsilon(1e-6));
    }
  }
}

TEST_CASE("epsilon and its order after 1 to 1000 steps equal the reference to 1e-6", "[core][dp]") {
  for (const EpsilonReference& ref : kEpsilonReference) {
    INFO("q " << ref.q << ", z " << ref.z << ", " << ref.steps << " steps, delta " << ref.delta);
    RdpAccountant accountant;
    accountant.add(ref.q, ref.z, ref.steps);
    const fedglioma::PrivacySpent spent = accountant.spent(ref.delta);
    REQUIRE(spent.epsilon == Approx(ref.epsilon).epsilon(1e-6));
    REQUIRE(spent.order == ref.order);
  }
}

TEST_CASE("composition adds RDP; no noise is infinite; nothing sampled costs nothing", "[core][dp]") {
  RdpAccountant once, twice;
  once.add(0.1, 1.0, 2);
  twice.add(0.1, 1.0);
  REQUIRE(twice.spent_after(0.1, 1.0, 1e-5).epsilon == Approx(once.spent(1e-5).epsilon).epsilon(1e-12));
  twice.add(0.1, 1.0);
  REQUIRE(twice.rdp() == once.rdp());
  RdpAccountant plain;
  plain.add(1.0, 2.0);
  REQUIRE(plain.rdp().back() == 63.0 / 8.0);  // alpha / (2 z^2)
  RdpAccountant none;
  none.add(0.5, 0.0);
  REQUIRE(std::isinf(none.spent(1e-5).epsilon));
  RdpAccountant unsampled;
  unsampled.add(0.0, 1.0, 100);
  REQUIRE(unsampled.rdp() == std::vector<double>(kRdpOrders.size(), 0.0));
  REQUIRE_THROWS_AS(fedglioma::subsampled_gaussian_rdp(1.5, 1.0, kRdpOrders), std::invalid_argument);
  REQUIRE_THROWS_AS(fedglioma::subsampled_gaussian_rdp(0.5, -1.0, kRdpOrders), std::invalid_argument);
  REQUIRE_THROWS_AS(plain.spent(1.0), std::invalid_argument);
  REQUIRE_THROWS_AS(plain.set_rdp({1.0}), std::invalid_argument);
}
