// ROC curve, reliability diagram, Brier score and ECE against scikit-learn 1.2.1 (Debian 12's
// python3-sklearn): roc_curve(drop_intermediate=False), calibration_curve(n_bins=10),
// brier_score_loss, on ten cases with tied scores across classes. The end-to-end comparison on a
// run's own predictions.csv is tests/scripts/curves_sklearn_test.sh.
#include <catch2/catch.hpp>

#include <cmath>

#include "core/curves.h"

namespace {
const std::vector<int> kLabels = {1, 0, 1, 1, 0, 0, 1, 0, 1, 0};
const std::vector<double> kScores = {0.9, 0.8, 0.8, 0.35, 0.3, 0.1, 0.7, 0.2, 0.3, 0.05};
}  // namespace

TEST_CASE("roc_curve equals scikit-learn's roc_curve with every point kept", "[core][curves]") {
  const auto curve = fedglioma::roc_curve(kScores, kLabels);
  // (threshold, fpr, tpr) as scikit-learn prints them; its first threshold is max + 1 (1.9), ours +inf.
  const std::vector<std::array<double, 3>> expected = {{0.9, 0.0, 0.2}, {0.8, 0.2, 0.4}, {0.7, 0.2, 0.6},
                                                       {0.35, 0.2, 0.8}, {0.3, 0.4, 1.0}, {0.2, 0.6, 1.0},
                                                       {0.1, 0.8, 1.0}, {0.05, 1.0, 1.0}};
  REQUIRE(curve.size() == expected.size() + 1);
  REQUIRE(std::isinf(curve[0].threshold));
  REQUIRE(curve[0].fpr == 0.0);
  REQUIRE(curve[0].tpr == 0.0);
  for (std::size_t i = 0; i < expected.size(); ++i) {
    REQUIRE(curve[i + 1].threshold == expected[i][0]);
    REQUIRE(curve[i + 1].fpr == Approx(expected[i][1]).margin(1e-15));
    REQUIRE(curve[i + 1].tpr == Approx(expected[i][2]).margin(1e-15));
  }
  REQUIRE(fedglioma::roc_curve({0.3, 0.4}, {1, 1}).empty());
}

TEST_CASE("calibration_bins, Brier and ECE equal scikit-learn's", "[core][curves]") {
  const auto bins = fedglioma::calibration_bins(kScores, kLabels);
  // calibration_curve: prob_true, prob_pred of the non-empty bins (0.3 falls in [0.2, 0.3], 0.7 in [0.6, 0.7]).
  const std::vector<double> fraction = {0.0, 0.0, 0.5, 1.0, 1.0, 0.5, 1.0};
  const std::vector<double> predicted = {0.075, 0.2, 0.3, 0.35, 0.7, 0.8, 0.9};
  const std::vector<int> index = {0, 1, 2, 3, 6, 7, 8};
  REQUIRE(bins.size() == fraction.size());
  std::size_t total = 0;
  for (std::size_t i = 0; i < bins.size(); ++i) {
    REQUIRE(bins[i].bin == index[i]);
    REQUIRE(bins[i].fraction_positive == Approx(fraction[i]).margin(1e-15));
    REQUIRE(bins[i].mean_predicted == Approx(predicted[i]).epsilon(1e-15));
    REQUIRE(bins[i].lower == Approx(0.1 * index[i]).margin(1e-15));
    total += bins[i].n;
  }
  REQUIRE(total == kScores.size());
  REQUIRE(*fedglioma::brier_score(kScores, kLabels) == Approx(0.18350000000000002).epsilon(1e-15));
  // ECE: the bins' |fraction - predicted| weighted by their share of the cases.
  double ece = 0;
  const std::vector<int> counts = {2, 1, 2, 1, 1, 2, 1};
  for (std::size_t i = 0; i < counts.size(); ++i) ece += counts[i] / 10.0 * std::abs(fraction[i] - predicted[i]);
  REQUIRE(*fedglioma::expected_calibration_error(kScores, kLabels) == Approx(ece).epsilon(1e-12));
  REQUIRE_FALSE(fedglioma::brier_score({}, {}).has_value());
}
