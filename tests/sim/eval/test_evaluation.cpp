#include <catch2/catch.hpp>

#include "data/dataset.h"
#include "sim/eval/evaluation.h"

using fedglioma::sim::CasePrediction;
using fedglioma::sim::EvalSummary;

TEST_CASE("summarize computes the 3-class grade block only for 3-class predictions", "[sim][evaluation]") {
  // Six cases, two per grade; the grade probabilities rank each grade's cases first.
  std::vector<fedglioma::data::Sample> samples(6);
  std::vector<CasePrediction> predictions(6);
  for (std::size_t i = 0; i < 6; ++i) {
    const int grade = 2 + static_cast<int>(i / 2);
    samples[i].labels.grade = grade;
    predictions[i].sample = &samples[i];
    predictions[i].markers.prob[3] = grade == 4 ? 0.8 : 0.2;
    std::array<double, 3> p{0.1, 0.1, 0.1};
    p[static_cast<std::size_t>(grade - 2)] = 0.8;
    predictions[i].markers.grade = p;
  }
  std::vector<const CasePrediction*> all;
  for (const auto& p : predictions) all.push_back(&p);
  const EvalSummary s = fedglioma::sim::summarize(all, 1);
  REQUIRE(s.auc[3] == Approx(1.0));
  REQUIRE(s.grade3.has_value());
  REQUIRE(*s.grade3->auc_macro == Approx(1.0));
  for (const auto& auc : s.grade3->auc_ovr) REQUIRE(*auc == Approx(1.0));

  // Without grade probabilities (binary grade model) there is no grade block.
  for (auto& p : predictions) p.markers.grade.reset();
  REQUIRE_FALSE(fedglioma::sim::summarize(all, 1).grade3.has_value());
}

TEST_CASE("mean_summary averages each metric over the parts where it is defined", "[sim][evaluation]") {
  EvalSummary a, b;
  a.n = b.n = 4;
  a.dice_mean = 0.6;
  b.dice_mean = 0.8;
  a.auc[0] = 0.7;  // b's IDH AUC undefined
  a.grade3 = fedglioma::sim::GradeSummary{0.6, std::nullopt, {0.5, 0.6, 0.7}};
  b.grade3 = fedglioma::sim::GradeSummary{0.8, std::nullopt, {0.7, std::nullopt, 0.9}};
  const EvalSummary m = fedglioma::sim::mean_summary({a, b});
  REQUIRE(m.n == 4);
  REQUIRE(*m.dice_mean == Approx(0.7));
  REQUIRE(*m.auc[0] == Approx(0.7));
  REQUIRE_FALSE(m.auc[1].has_value());
  REQUIRE(*m.grade3->auc_macro == Approx(0.7));
  REQUIRE(*m.grade3->auc_ovr[1] == Approx(0.6));
  REQUIRE(*m.grade3->auc_ovr[2] == Approx(0.8));
}

namespace {

// `n` cases with IDH labels `idh` (1/0) scored `scores`, and Dice values `dice` (none: no mask).
struct Cases {
  std::vector<fedglioma::data::Sample> samples;
  std::vector<CasePrediction> predictions;
  std::vector<const CasePrediction*> all;
  Cases(const std::vector<int>& idh, const std::vector<double>& scores, const std::vector<double>& dice)
      : samples(idh.size()), predictions(idh.size()) {
    for (std::size_t i = 0; i < idh.size(); ++i) {
      samples[i].labels.idh = idh[i];
      predictions[i].sample = &samples[i];
      predictions[i].markers.prob[0] = scores[i];
      if (i < dice.size()) predictions[i].dice = dice[i];
    }
    for (const auto& p : predictions) all.push_back(&p);
  }
};

}  // namespace

TEST_CASE("every mean Dice and AUC carries its n and 95 % interval, or null with the reason", "[sim][evaluation]") {
  // Two cases, one of each class: an AUC, but no interval (never [0, 0]).
  const Cases two({1, 0}, {0.9, 0.2}, {0.8});
  const EvalSummary a = fedglioma::sim::summarize(two.all, 1);
  REQUIRE(*a.auc[0] == 1.0);
  REQUIRE(a.n_positive[0] == 1);
  REQUIRE(a.n_negative[0] == 1);
  REQUIRE_FALSE(a.auc_ci_delong[0].has_value());
  REQUIRE_FALSE(a.auc_ci_bootstrap[0].has_value());
  REQUIRE(*a.auc_ci_missing[0] == "1 positive and 1 negative: an AUC interval needs at least 2 of each");
  REQUIRE(a.n_dice == 1);
  REQUIRE_FALSE(a.dice_mean_ci.has_value());
  REQUIRE_THAT(*a.dice_mean_ci_missing, Catch::Contains("1 case(s) with a mask"));

  // Every case scored alike: no spread, no interval; every Dice alike likewise.
  const Cases tied({1, 1, 0, 0}, {0.5, 0.5, 0.5, 0.5}, {0.7, 0.7, 0.7});
  const EvalSummary t = fedglioma::sim::summarize(tied.all, 1);
  REQUIRE(*t.auc[0] == 0.5);
  REQUIRE_FALSE(t.auc_ci_delong[0].has_value());
  REQUIRE_THAT(*t.auc_ci_missing[0], Catch::Contains("same score"));
  REQUIRE_THAT(*t.dice_mean_ci_missing, Catch::Contains("same Dice"));

  // Enough cases: both intervals hold the estimate, within [0, 1]; the reason is absent.
  const Cases six({1, 1, 1, 0, 0, 0}, {0.9, 0.4, 0.7, 0.6, 0.2, 0.1}, {0.9, 0.5, 0.7, 0.8, 0.6, 0.3});
  const EvalSummary s = fedglioma::sim::summarize(six.all, 1);
  REQUIRE(s.auc_ci_delong[0].has_value());
  REQUIRE(s.auc_ci_delong[0]->lower <= *s.auc[0]);
  REQUIRE(s.auc_ci_delong[0]->upper <= 1.0);
  REQUIRE_FALSE(s.auc_ci_missing[0].has_value());
  REQUIRE(s.dice_mean_ci.has_value());
  REQUIRE(s.dice_mean_ci->lower <= *s.dice_mean);
  REQUIRE(s.dice_mean_ci->upper >= *s.dice_mean);
  REQUIRE(s.dice_mean_ci->lower >= 0.3);
  REQUIRE_FALSE(s.dice_mean_ci_missing.has_value());
  // Calibration: Brier is the mean squared error of the probabilities.
  REQUIRE(*s.brier[0] == Approx((0.01 + 0.36 + 0.09 + 0.36 + 0.04 + 0.01) / 6));
}

TEST_CASE("thresholds chosen on validation are applied to the other sets", "[sim][evaluation]") {
  const Cases val({1, 1, 0, 0}, {0.9, 0.6, 0.5, 0.1}, {});
  const EvalSummary v = fedglioma::sim::summarize(val.all, 1);
  const fedglioma::sim::MarkerThresholds chosen = fedglioma::sim::youden_thresholds(v);
  REQUIRE(*chosen[0] == 0.6);  // the highest threshold with J = 1
  // On another set the validation threshold gives other rates than that set's own Youden point.
  const Cases ext({1, 1, 0, 0}, {0.55, 0.9, 0.3, 0.2}, {});
  const EvalSummary e = fedglioma::sim::summarize(ext.all, 1, &chosen);
  REQUIRE(e.at_val_threshold[0]->threshold == 0.6);
  REQUIRE(e.at_val_threshold[0]->sensitivity == 0.5);  // 0.55 falls below the validation threshold
  REQUIRE(e.at_youden[0]->sensitivity == 1.0);          // the set's own optimum, optimistic
  REQUIRE_FALSE(fedglioma::sim::summarize(ext.all, 1).at_val_threshold[0].has_value());
}
