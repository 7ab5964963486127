// The fairness summary of an evaluation: the spread of each metric across sites.
#include <catch2/catch.hpp>

#include <cmath>

#include "sim/eval/fairness.h"

using namespace fedglioma::sim;

TEST_CASE("fairness gives the worst, best and sd across sites and counts undefined sites", "[sim][fairness]") {
  EvalSummary a, b, c;
  a.dice_mean = 0.8;
  b.dice_mean = 0.6;
  c.dice_mean = 0.7;
  a.auc[0] = 0.9;
  b.auc[0] = std::nullopt;  // one class among site b's labelled cases
  c.auc[0] = 0.5;
  const Fairness f = fairness({&a, &b, &c});
  REQUIRE(*f.dice.worst == 0.6);
  REQUIRE(*f.dice.best == 0.8);
  REQUIRE(*f.dice.sd == Approx(0.1));  // sd of 0.8, 0.6, 0.7 with n - 1
  REQUIRE(f.dice.defined == 3);
  REQUIRE(f.dice.undefined == 0);
  REQUIRE(*f.auc[0].worst == 0.5);
  REQUIRE(*f.auc[0].best == 0.9);
  REQUIRE(*f.auc[0].sd == Approx(std::sqrt(0.08)));
  REQUIRE(f.auc[0].defined == 2);
  REQUIRE(f.auc[0].undefined == 1);
  // No site defines the 1p/19q AUC; one site has no spread.
  REQUIRE_FALSE(f.auc[1].worst);
  REQUIRE(f.auc[1].undefined == 3);
  const Fairness one = fairness({&a});
  REQUIRE(*one.dice.worst == 0.8);
  REQUIRE_FALSE(one.dice.sd);
}
