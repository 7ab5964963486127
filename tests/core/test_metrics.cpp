#include <catch2/catch.hpp>

#include <array>
#include <cstdint>
#include <vector>

#include "core/metrics.h"

namespace {
#include "tests/core/metrics_reference.inc"
}

TEST_CASE("roc_auc equals scikit-learn's roc_auc_score with ties", "[core][metrics]") {
  for (const auto& ref : kAucReference) {
    const auto auc = fedglioma::roc_auc(ref.scores, ref.labels);
    REQUIRE(auc.has_value());
    REQUIRE(*auc == Approx(ref.auc).epsilon(1e-12));
  }
}

TEST_CASE("roc_auc is undefined with one class", "[core][metrics]") {
  REQUIRE_FALSE(fedglioma::roc_auc({0.1, 0.9}, {1, 1}).has_value());
  REQUIRE_FALSE(fedglioma::roc_auc({}, {}).has_value());
  REQUIRE(*fedglioma::roc_auc({0.1, 0.9}, {0, 1}) == 1.0);
  REQUIRE(*fedglioma::roc_auc({0.5, 0.5}, {0, 1}) == 0.5);
}

TEST_CASE("dice follows the BraTS conventions for empty masks", "[core][metrics]") {
  const std::vector<std::uint8_t> empty(8, 0), a = {1, 1, 0, 0, 0, 0, 0, 0}, b = {1, 0, 1, 0, 0, 0, 0, 0};
  REQUIRE(fedglioma::dice(empty.data(), empty.data(), 8) == 1.0);
  REQUIRE(fedglioma::dice(a.data(), empty.data(), 8) == 0.0);
  REQUIRE(fedglioma::dice(a.data(), a.data(), 8) == 1.0);
  REQUIRE(fedglioma::dice(a.data(), b.data(), 8) == Approx(0.5));
}

TEST_CASE("hd95 equals the MedPy/BraTS definition computed with scipy", "[core][metrics]") {
  for (const auto& ref : kHd95Reference) {
    REQUIRE(fedglioma::hd95(ref.a.data(), ref.b.data(), ref.size, ref.spacing) == Approx(ref.hd95).epsilon(1e-9));
    REQUIRE(fedglioma::hd95(ref.b.data(), ref.a.data(), ref.size, ref.spacing) == Approx(ref.hd95).epsilon(1e-9));
  }
}

TEST_CASE("hd95 follows the BraTS conventions for empty masks", "[core][metrics]") {
  const std::array<std::int64_t, 3> size{2, 2, 2};
  const std::array<double, 3> spacing{1, 1, 1};
  const std::vector<std::uint8_t> empty(8, 0), a = {1, 0, 0, 0, 0, 0, 0, 0};
  REQUIRE(fedglioma::hd95(empty.data(), empty.data(), size, spacing) == 0.0);
  REQUIRE(fedglioma::hd95(a.data(), empty.data(), size, spacing) == fedglioma::kHd95OneEmpty);
  REQUIRE(fedglioma::hd95(a.data(), a.data(), size, spacing) == 0.0);
}

TEST_CASE("median and mean", "[core][metrics]") {
  REQUIRE_FALSE(fedglioma::median({}).has_value());
  REQUIRE(*fedglioma::median({3, 1, 2}) == 2.0);
  REQUIRE(*fedglioma::median({4, 1, 2, 3}) == 2.5);
  REQUIRE(*fedglioma::mean({1, 2, 6}) == 3.0);
}

TEST_CASE("DeLong AUC intervals and threshold rates equal the scikit-learn and numpy references",
          "[core][metrics]") {
  for (const auto& ref : kAucReference) {
    const auto ci = fedglioma::auc_ci_delong(ref.scores, ref.labels);
    REQUIRE(ci.has_value());
    REQUIRE(ci->lower == Approx(ref.delong_lower).epsilon(1e-9));
    REQUIRE(ci->upper == Approx(ref.delong_upper).epsilon(1e-9));
    const auto at = fedglioma::rates_at(ref.scores, ref.labels, 0.5);
    REQUIRE(at->sensitivity == Approx(ref.sensitivity_05).epsilon(1e-12));
    REQUIRE(at->specificity == Approx(ref.specificity_05).epsilon(1e-12));
    REQUIRE(at->balanced_accuracy == Approx(ref.balanced_accuracy_05).epsilon(1e-12));
    const auto best = fedglioma::youden(ref.scores, ref.labels);
    REQUIRE(best->threshold == ref.youden_threshold);
    REQUIRE(best->sensitivity == Approx(ref.youden_sensitivity).epsilon(1e-12));
    REQUIRE(best->specificity == Approx(ref.youden_specificity).epsilon(1e-12));
  }
}

TEST_CASE("the stratified bootstrap AUC interval is seeded and brackets the AUC like DeLong's",
          "[core][metrics]") {
  const auto& ref = kAucReference[2];  // 200 cases
  const auto a = fedglioma::auc_ci_bootstrap(ref.scores, ref.labels, 2000, 7);
  const auto b = fedglioma::auc_ci_bootstrap(ref.scores, ref.labels, 2000, 7);
  const auto c = fedglioma::auc_ci_bootstrap(ref.scores, ref.labels, 2000, 8);
  REQUIRE((a->lower == b->lower && a->upper == b->upper));
  REQUIRE((a->lower != c->lower || a->upper != c->upper));
  REQUIRE((a->lower < ref.auc && ref.auc < a->upper));
  // For 200 cases the two methods agree to a few hundredths.
  REQUIRE(a->lower == Approx(ref.delong_lower).margin(0.03));
  REQUIRE(a->upper == Approx(ref.delong_upper).margin(0.03));
  REQUIRE_FALSE(fedglioma::auc_ci_bootstrap({0.1, 0.2}, {1, 1}, 100, 1).has_value());
  REQUIRE_FALSE(fedglioma::auc_ci_delong({0.1, 0.2, 0.3}, {1, 0, 0}).has_value());  // one positive
}

TEST_CASE("macro one-vs-rest AUC equals scikit-learn's roc_auc_score(multi_class=ovr)", "[core][metrics]") {
  for (const auto& ref : kOvrReference) {
    const auto macro = fedglioma::roc_auc_ovr_macro(ref.scores, ref.labels, 3);
    REQUIRE(macro.has_value());
    REQUIRE(*macro == Approx(ref.auc_macro).margin(1e-12));
    double sum = 0.0;
    for (double auc : ref.auc_per_class) sum += auc;
    REQUIRE(*macro == Approx(sum / 3.0).margin(1e-12));
  }
  // A class that never occurs: scikit-learn refuses, so do we.
  REQUIRE_FALSE(fedglioma::roc_auc_ovr_macro({{0.2, 0.3, 0.5}, {0.6, 0.3, 0.1}}, {0, 2}, 3).has_value());
}

TEST_CASE("the macro one-vs-rest bootstrap interval is seeded and brackets the estimate", "[core][metrics]") {
  const auto& ref = kOvrReference[1];  // 45 cases
  const auto a = fedglioma::auc_ovr_macro_ci_bootstrap(ref.scores, ref.labels, 3, 2000, 3);
  const auto b = fedglioma::auc_ovr_macro_ci_bootstrap(ref.scores, ref.labels, 3, 2000, 3);
  REQUIRE(a.has_value());
  REQUIRE((a->lower == b->lower && a->upper == b->upper));
  REQUIRE((a->lower < ref.auc_macro && ref.auc_macro < a->upper));
  REQUIRE(a->upper - a->lower < 0.5);
  REQUIRE_FALSE(fedglioma::auc_ovr_macro_ci_bootstrap({{0.2, 0.3, 0.5}, {0.6, 0.3, 0.1}}, {0, 1}, 3, 100, 1));
}
