#include <catch2/catch.hpp>

#include <torch/types.h>

#include <cmath>
#include <memory>

#include "core/random.h"
#include "sim/train/batch.h"
#include "sim/train/case_tensors.h"

namespace {

std::shared_ptr<fedglioma::data::Sample> small_case(bool with_mask) {
  auto s = std::make_shared<fedglioma::data::Sample>();
  s->id = "case-1";
  s->geometry.size = {4, 3, 2};  // i, j, k: tensors are [C, 2, 3, 4]
  s->image.resize(4 * 24);
  for (std::size_t v = 0; v < s->image.size(); ++v) s->image[v] = static_cast<float>(v % 5);
  if (with_mask) s->mask.assign(24, 0), s->mask[7] = 1;
  return s;
}

}  // namespace

TEST_CASE("on the CPU a case's tensors are views of the sample's memory, in (k, j, i) order", "[sim][batch]") {
  const auto s = small_case(true);
  fedglioma::sim::DeviceCases cases(c10::Device(c10::kCPU));
  const auto t = cases.get(s);
  REQUIRE(t.image.data_ptr<float>() == s->image.data());
  REQUIRE(t.image.sizes() == c10::IntArrayRef({4, 2, 3, 4}));
  REQUIRE(t.mask.sizes() == c10::IntArrayRef({1, 2, 3, 4}));
  REQUIRE(t.mask.sum().item<double>() == 1.0);
  REQUIRE(t.mask.flatten()[7].item<double>() == 1.0);
  const auto unmasked = fedglioma::sim::case_tensors(small_case(false), c10::Device(c10::kCPU));
  REQUIRE(unmasked.mask.sum().item<double>() == 0.0);
}

TEST_CASE("gamma augmentation is nnU-Net's transform of the brain's intensity range", "[sim][batch]") {
  auto s = small_case(false);
  s->image[0] = s->image[24] = s->image[48] = s->image[72] = 0.0f;  // one background voxel in every channel
  fedglioma::sim::AugmentOptions options;
  options.flips_and_intensity = false;
  options.gamma = 1.0;
  fedglioma::Rng rng(4), replay(4);
  const auto batch =
      fedglioma::sim::make_batch({fedglioma::sim::case_tensors(s, c10::Device(c10::kCPU))}, &rng, options);
  for (std::size_t c = 0; c < 4; ++c) {
    REQUIRE(replay.bernoulli(1.0));
    const double gamma = replay.uniform(0.7, 1.5);
    double lo = 1e9, hi = -1e9;
    for (std::size_t v = 1; v < 24; ++v) {  // inside: every voxel but the first (the background)
      lo = std::min(lo, static_cast<double>(s->image[c * 24 + v]));
      hi = std::max(hi, static_cast<double>(s->image[c * 24 + v]));
    }
    const auto channel = batch.image[0][static_cast<std::int64_t>(c)].flatten();
    REQUIRE(channel[0].item<double>() == 0.0);
    for (std::size_t v = 1; v < 24; ++v) {
      const double x = s->image[c * 24 + v];
      const double expected = std::pow((x - lo) / (hi - lo), gamma) * (hi - lo) + lo;
      REQUIRE(channel[static_cast<std::int64_t>(v)].item<double>() == Approx(expected).margin(1e-5));
    }
  }
}
