#include <catch2/catch.hpp>

#include <torch/nn.h>
#include <torch/types.h>

#include "models/multitask_loss.h"
#include "models/multitask_unet3d.h"
#include "tests/support/fixtures.h"

using namespace fedglioma::models;

namespace {

// The last linear layer of the marker MLP: row m is marker m's head.
torch::Tensor head_weight_grad(MultiTaskUNet3D& model) {
  torch::Tensor grad;
  for (const auto& p : model->named_parameters())
    if (p.key() == "marker_head.2.weight") grad = p.value().grad();
  return grad;
}

}  // namespace

TEST_CASE("a marker head gets zero gradient from cases whose label is unknown", "[models][loss]") {
  fedglioma::testing::seed_torch(1);
  MultiTaskUNet3D model(MultiTaskUNet3DOptions().depth(2).base_channels(2).head_hidden(6));
  const auto x = torch::randn({3, 4, 8, 8, 8});
  const auto mask = (torch::rand({3, 1, 8, 8, 8}) > 0.7).to(torch::kFloat);
  const auto mask_known = torch::ones({3});
  // IDH (column 0) unknown for every case; the other markers labelled.
  const auto target = torch::tensor({{0.f, 1.f, 0.f, 1.f}, {0.f, 0.f, 1.f, 0.f}, {0.f, 1.f, 1.f, 1.f}});
  auto known = torch::ones({3, 4});
  known.index_put_({torch::indexing::Slice(), 0}, 0.0);

  const auto out = model->forward(x);
  out.marker_logits.retain_grad();
  const auto loss = multitask_loss(out, {mask, mask_known, target, known, torch::zeros({3}, torch::kLong)}, LossWeights{});
  loss.total.backward();

  // The IDH logits and the IDH row of the head get exactly zero gradient...
  REQUIRE(torch::all(out.marker_logits.grad().index({torch::indexing::Slice(), 0}) == 0).item<bool>());
  REQUIRE(torch::all(head_weight_grad(model)[0] == 0).item<bool>());
  // ...while the labelled markers do learn.
  REQUIRE(torch::any(head_weight_grad(model)[1] != 0).item<bool>());
  REQUIRE(loss.marker(0) == 0.0);
}

TEST_CASE("an unknown label for one case leaves the others' gradient unchanged", "[models][loss]") {
  fedglioma::testing::seed_torch(2);
  const auto logits = torch::randn({2, 4}, torch::requires_grad());
  const auto mask_logits = torch::randn({2, 1, 4, 4, 4}, torch::requires_grad());
  const auto mask = torch::zeros({2, 1, 4, 4, 4});
  const auto target = torch::tensor({{1.f, 0.f, 1.f, 0.f}, {0.f, 1.f, 0.f, 1.f}});
  auto known = torch::ones({2, 4});
  known.index_put_({1, 2}, 0.0);  // case 1's MGMT is unknown

  MultiTaskOutput out{mask_logits, logits, {}, {}};
  multitask_loss(out, {mask, torch::ones({2}), target, known, torch::zeros({2}, torch::kLong)}, LossWeights{})
      .total.backward();

  // Case 1's MGMT logit gets nothing; case 0's gets the full BCE gradient (sigmoid - y) / 1.
  REQUIRE(logits.grad()[1][2].item<double>() == 0.0);
  const double expected = torch::sigmoid(logits[0][2]).item<double>() - 1.0;
  REQUIRE(logits.grad()[0][2].item<double>() == Approx(expected).epsilon(1e-5));
}

TEST_CASE("cases without a mask do not contribute to the mask loss", "[models][loss]") {
  const auto mask_logits = torch::randn({2, 1, 4, 4, 4}, torch::requires_grad());
  const auto logits = torch::zeros({2, 4}, torch::requires_grad());
  MultiTaskOutput out{mask_logits, logits, {}, {}};
  const auto mask_known = torch::tensor({1.f, 0.f});
  multitask_loss(out, {torch::ones({2, 1, 4, 4, 4}), mask_known, torch::zeros({2, 4}), torch::zeros({2, 4}),
                       torch::zeros({2}, torch::kLong)},
                 LossWeights{})
      .total.backward();
  REQUIRE(torch::all(mask_logits.grad()[1] == 0).item<bool>());
  REQUIRE(torch::any(mask_logits.grad()[0] != 0).item<bool>());
}

TEST_CASE("3-class grade uses cross-entropy over the cases with a known grade", "[models][loss]") {
  fedglioma::testing::seed_torch(3);
  const auto grade_logits = torch::randn({3, 3}, torch::requires_grad());
  const auto markers = torch::randn({3, 4}, torch::requires_grad());
  MultiTaskOutput out{torch::zeros({3, 1, 4, 4, 4}), markers, grade_logits, {}};
  const auto marker_target = torch::zeros({3, 4});
  auto known = torch::ones({3, 4});
  known.index_put_({2, 3}, 0.0);  // case 2's grade is unknown
  const auto grade = torch::tensor({2, 0, 1}, torch::kLong);  // grades 4, 2, (unknown)
  LossWeights weights;
  weights.mask = 0.0;
  weights.grade_class = {1.0, 1.0, 1.0};
  const auto loss = multitask_loss(out, {torch::zeros({3, 1, 4, 4, 4}), torch::zeros({3}), marker_target, known, grade},
                                   weights);
  const double expected =
      (-torch::log_softmax(grade_logits[0], 0)[2] - torch::log_softmax(grade_logits[1], 0)[0]).item<double>() / 2.0;
  REQUIRE(loss.marker(3) == Approx(expected).epsilon(1e-5));
  loss.total.backward();
  // The unknown case's grade logits and every binary grade logit get no gradient.
  REQUIRE(torch::all(grade_logits.grad()[2] == 0).item<bool>());
  REQUIRE(torch::all(markers.grad().select(1, 3) == 0).item<bool>());
  REQUIRE(torch::any(grade_logits.grad()[0] != 0).item<bool>());

  // Class weights scale each case's term by its grade's weight.
  weights.grade_class = {3.0, 1.0, 1.0};
  const auto weighted = multitask_loss(out, {torch::zeros({3, 1, 4, 4, 4}), torch::zeros({3}), marker_target, known, grade},
                                       weights);
  const double expected_weighted =
      (-torch::log_softmax(grade_logits[0], 0)[2] - 3.0 * torch::log_softmax(grade_logits[1], 0)[0]).item<double>() / 2.0;
  REQUIRE(weighted.marker(3) == Approx(expected_weighted).epsilon(1e-5));
}

TEST_CASE("learned task uncertainty weights each task by exp(-s) and adds s/2 where labelled", "[models][loss]") {
  fedglioma::testing::seed_torch(4);
  const auto mask_logits = torch::randn({2, 1, 4, 4, 4});
  const auto markers = torch::randn({2, 4});
  const auto mask = (torch::rand({2, 1, 4, 4, 4}) > 0.5).to(torch::kFloat);
  const auto target = torch::tensor({{1.f, 0.f, 1.f, 0.f}, {0.f, 1.f, 0.f, 1.f}});
  auto known = torch::ones({2, 4});
  known.index_put_({torch::indexing::Slice(), 2}, 0.0);  // MGMT unknown for both cases
  const LossTargets targets{mask, torch::ones({2}), target, known, torch::zeros({2}, torch::kLong)};

  const auto fixed = multitask_loss(MultiTaskOutput{mask_logits, markers, {}, {}}, targets, LossWeights{});
  // s = 0: exactly the fixed-weight loss.
  const auto zero = torch::zeros({5}, torch::requires_grad());
  REQUIRE(multitask_loss(MultiTaskOutput{mask_logits, markers, {}, zero}, targets, LossWeights{}).total.item<double>() ==
          Approx(fixed.total.item<double>()).epsilon(1e-6));

  const auto s = torch::full({5}, std::log(2.0)).requires_grad_();
  const auto learned = multitask_loss(MultiTaskOutput{mask_logits, markers, {}, s}, targets, LossWeights{});
  const double tasks_present = 4.0;  // mask, IDH, 1p/19q, grade
  REQUIRE(learned.total.item<double>() ==
          Approx(0.5 * fixed.total.item<double>() + 0.5 * std::log(2.0) * tasks_present).epsilon(1e-6));
  learned.total.backward();
  // d/ds_t = -exp(-s_t) L_t + 1/2 for labelled tasks; nothing for the unlabelled MGMT.
  REQUIRE(s.grad()[3].item<double>() == 0.0);
  REQUIRE(s.grad()[0].item<double>() == Approx(-0.5 * fixed.mask() + 0.5).epsilon(1e-5));
  REQUIRE(s.grad()[1].item<double>() == Approx(-0.5 * fixed.marker(0) + 0.5).epsilon(1e-5));
}

TEST_CASE("brats_regions: the core and enhancing losses of a case with a binary mask are masked out", "[models][loss][regions]") {
  fedglioma::testing::seed_torch(5);
  const auto mask_logits = torch::randn({2, 3, 4, 4, 4}, torch::requires_grad());
  const auto markers = torch::zeros({2, 4}, torch::requires_grad());
  // Case 0: region codes (0 background, 1 oedema, 3 core, 7 enhancing); case 1: a binary mask.
  auto codes = torch::zeros({2, 1, 4, 4, 4});
  codes[0][0][1] = 1.0;
  codes[0][0][2] = 3.0;
  codes[0][0][3] = 7.0;
  codes[1][0][2] = 1.0;
  LossTargets targets{codes, torch::ones({2}), torch::zeros({2, 4}), torch::zeros({2, 4}), torch::zeros({2}, torch::kLong),
                      torch::tensor({1.0f, 0.0f})};
  const auto loss = multitask_loss(MultiTaskOutput{mask_logits, markers, {}, {}}, targets, LossWeights{});
  loss.total.backward();
  const auto grad = mask_logits.grad();
  REQUIRE(torch::all(grad[1].slice(0, 1, 3) == 0).item<bool>());   // the binary case's TC and ET: nothing
  REQUIRE(torch::any(grad[1][0] != 0).item<bool>());                // its whole tumour trains
  REQUIRE(torch::any(grad[0].slice(0, 1, 3) != 0).item<bool>());   // the region case's TC and ET train

  // The term is the mean over the four known (case, region) pairs of soft Dice + BCE, each region
  // against its bit of the codes.
  const auto bits = torch::tensor({1, 2, 4}, torch::kInt32).view({1, 3, 1, 1, 1});
  const auto target = codes.to(torch::kInt32).bitwise_and(bits).ne(0).to(torch::kFloat);
  double expected = 0.0;
  for (const auto& [b, r] : {std::pair{0, 0}, {0, 1}, {0, 2}, {1, 0}}) {
    const auto p = torch::sigmoid(mask_logits[b][r]).detach(), t = target[b][r];
    const double dice = 1.0 - ((2.0 * (p * t).sum() + 1.0) / (p.sum() + t.sum() + 1.0)).item<double>();
    const double bce = torch::binary_cross_entropy_with_logits(mask_logits[b][r].detach(), t).item<double>();
    expected += (dice + bce) / 4.0;
  }
  REQUIRE(loss.mask() == Approx(expected).epsilon(1e-5));
}
