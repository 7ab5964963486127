#include <catch2/catch.hpp>

#include <stdexcept>

#include "core/aggregate.h"
#include "core/random.h"

using fedglioma::FlatParams;

TEST_CASE("weighted_mean equals the sample-weighted mean computed independently", "[core][fedavg]") {
  // Prepare: three clients with different sample counts and random parameters.
  fedglioma::Rng rng(42);
  const std::vector<double> samples = {12, 3, 7};
  std::vector<FlatParams> clients(3, FlatParams(257));
  for (auto& c : clients)
    for (float& v : c) v = static_cast<float>(rng.normal());

  // Execute
  const FlatParams result = fedglioma::weighted_mean({&clients[0], &clients[1], &clients[2]}, samples);

  // Assert: against sum_k n_k x_k / sum_k n_k in long double.
  REQUIRE(result.size() == 257);
  for (std::size_t i = 0; i < result.size(); ++i) {
    long double num = 0, den = 0;
    for (std::size_t k = 0; k < 3; ++k) {
      num += static_cast<long double>(samples[k]) * clients[k][i];
      den += samples[k];
    }
    REQUIRE(result[i] == Approx(static_cast<double>(num / den)).margin(1e-6));
  }
}

TEST_CASE("weighted_mean of one client is that client", "[core][fedavg]") {
  const FlatParams only = {1.5f, -2.0f, 3.25f};
  REQUIRE(fedglioma::weighted_mean({&only}, {5}) == only);
}

TEST_CASE("weighted_mean rejects inconsistent input", "[core][fedavg]") {
  const FlatParams a = {1, 2}, b = {1, 2, 3};
  REQUIRE_THROWS_AS(fedglioma::weighted_mean({}, {}), std::invalid_argument);
  REQUIRE_THROWS_AS(fedglioma::weighted_mean({&a, &b}, {1, 1}), std::invalid_argument);
  REQUIRE_THROWS_AS(fedglioma::weighted_mean({&a}, {1, 2}), std::invalid_argument);
  REQUIRE_THROWS_AS(fedglioma::weighted_mean({&a, &a}, {0, 0}), std::invalid_argument);
}

TEST_CASE("all_finite detects NaN and infinity", "[core]") {
  REQUIRE(fedglioma::all_finite({0.f, 1.f}));
  REQUIRE_FALSE(fedglioma::all_finite({0.f, std::numeric_limits<float>::quiet_NaN()}));
  REQUIRE_FALSE(fedglioma::all_finite({std::numeric_limits<float>::infinity()}));
}
