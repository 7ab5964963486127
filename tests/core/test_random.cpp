#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <set>

#include "core/random.h"

using fedglioma::derive_seed;
using fedglioma::Rng;
using fedglioma::RngPurpose;

TEST_CASE("derived seeds differ for every key component and repeat for the same key", "[core][determinism]") {
  std::set<std::uint64_t> seen;
  for (std::uint64_t round = 0; round < 5; ++round)
    for (std::uint64_t client = 0; client < 5; ++client)
      for (auto purpose : {RngPurpose::kDataOrder, RngPurpose::kAugment})
        seen.insert(derive_seed(1, round, client, purpose));
  REQUIRE(seen.size() == 50);
  REQUIRE(derive_seed(9, 2, 3, RngPurpose::kAugment) == derive_seed(9, 2, 3, RngPurpose::kAugment));
  REQUIRE(derive_seed(9, 2, 3, RngPurpose::kAugment) != derive_seed(10, 2, 3, RngPurpose::kAugment));
}

TEST_CASE("Rng draws are reproducible and have the expected moments", "[core][determinism]") {
  Rng a(5), b(5);
  for (int i = 0; i < 100; ++i) REQUIRE(a.next() == b.next());
  Rng rng(11);
  double sum = 0, sum_sq = 0, usum = 0;
  const int n = 200000;
  for (int i = 0; i < n; ++i) {
    const double x = rng.normal();
    sum += x;
    sum_sq += x * x;
    usum += rng.uniform();
  }
  REQUIRE(sum / n == Approx(0.0).margin(0.01));
  REQUIRE(sum_sq / n == Approx(1.0).margin(0.02));
  REQUIRE(usum / n == Approx(0.5).margin(0.005));
}

TEST_CASE("Rng::shuffle is a permutation", "[core]") {
  Rng rng(3);
  std::vector<int> v(50);
  for (int i = 0; i < 50; ++i) v[i] = i;
  rng.shuffle(v);
  REQUIRE(std::set<int>(v.begin(), v.end()).size() == 50);
  std::vector<int> sorted(50);
  for (int i = 0; i < 50; ++i) sorted[i] = i;
  REQUIRE(v != sorted);
}

TEST_CASE("a tiny Dirichlet alpha gives the skew it asks for, not equal shares", "[core][random]") {
  for (const double alpha : {1e-3, 1e-6}) {
    fedglioma::Rng rng(11);
    double top_share = 0.0;
    for (int draw = 0; draw < 200; ++draw) {
      const auto p = rng.dirichlet(4, alpha);
      double sum = 0.0;
      for (const double x : p) {
        REQUIRE(std::isfinite(x));
        sum += x;
      }
      REQUIRE(sum == Approx(1.0));
      top_share += *std::max_element(p.begin(), p.end()) / 200.0;
    }
    // E[max share] tends to 1 as alpha -> 0 (0.25 would be the equal shares of an underflow).
    REQUIRE(top_share > 0.99);
    REQUIRE(std::isfinite(rng.log_gamma(alpha)));
  }
}
