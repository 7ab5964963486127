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
