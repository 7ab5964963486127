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
  const auto loss = multitask_loss(out, mask, mask_known, target, known, LossWeights{});
  loss.total.backward();

  // The IDH logits and the IDH row of the head get exactly zero gradient...
  REQUIRE(torch::all(out.marker_logits.grad().index({torch::indexing::Slice(), 0}) == 0).item<bool>());
  REQUIRE(torch::all(head_weight_grad(model)[0] == 0).item<bool>());
  // ...while the labelled markers do learn.
  REQUIRE(torch::any(head_weight_grad(model)[1] != 0).item<bool>());
  REQUIRE(loss.markers[0] == 0.0);
}

TEST_CASE("an unknown label for one case leaves the others' gradient unchanged", "[models][loss]") {
  fedglioma::testing::seed_torch(2);
  const auto logits = torch::randn({2, 4}, torch::requires_grad());
  const auto mask_logits = torch::randn({2, 1, 4, 4, 4}, torch::requires_grad());
  const auto mask = torch::zeros({2, 1, 4, 4, 4});
  const auto target = torch::tensor({{1.f, 0.f, 1.f, 0.f}, {0.f, 1.f, 0.f, 1.f}});
  auto known = torch::ones({2, 4});
  known.index_put_({1, 2}, 0.0);  // case 1's MGMT is unknown

  MultiTaskOutput out{mask_logits, logits};
  multitask_loss(out, mask, torch::ones({2}), target, known, LossWeights{}).total.backward();

  // Case 1's MGMT logit gets nothing; case 0's gets the full BCE gradient (sigmoid - y) / 1.
  REQUIRE(logits.grad()[1][2].item<double>() == 0.0);
  const double expected = torch::sigmoid(logits[0][2]).item<double>() - 1.0;
  REQUIRE(logits.grad()[0][2].item<double>() == Approx(expected).epsilon(1e-5));
}

TEST_CASE("cases without a mask do not contribute to the mask loss", "[models][loss]") {
  const auto mask_logits = torch::randn({2, 1, 4, 4, 4}, torch::requires_grad());
  const auto logits = torch::zeros({2, 4}, torch::requires_grad());
  MultiTaskOutput out{mask_logits, logits};
  const auto mask_known = torch::tensor({1.f, 0.f});
  multitask_loss(out, torch::ones({2, 1, 4, 4, 4}), mask_known, torch::zeros({2, 4}), torch::zeros({2, 4}),
                 LossWeights{})
      .total.backward();
  REQUIRE(torch::all(mask_logits.grad()[1] == 0).item<bool>());
  REQUIRE(torch::any(mask_logits.grad()[0] != 0).item<bool>());
}
