#include "sim/train/batch.h"

#include <ATen/CPUGeneratorImpl.h>

#include <algorithm>
#include <limits>
#include <utility>

#include "core/random.h"

namespace fedglioma::sim {

namespace {

// The start of a `patch`-voxel window along each axis (k, j, i order of `grid`), drawn from `rng`:
// around a random tumour voxel with probability `oversample` when the mask has one.
std::array<std::int64_t, 3> patch_start(const data::Sample& s, const std::vector<std::int64_t>& grid,
                                        const std::vector<std::int64_t>& patch, double oversample, Rng& rng) {
  std::array<std::int64_t, 3> start{};
  std::vector<std::int64_t> centre;
  if (!s.mask.empty() && rng.bernoulli(oversample)) {
    std::vector<std::size_t> tumour;
    for (std::size_t v = 0; v < s.mask.size(); ++v)
      if (s.mask[v]) tumour.push_back(v);
    if (!tumour.empty()) {
      const std::size_t v = tumour[rng.below(tumour.size())];
      const auto plane = static_cast<std::size_t>(grid[1] * grid[2]);
      centre = {static_cast<std::int64_t>(v / plane),
                static_cast<std::int64_t>((v % plane) / static_cast<std::size_t>(grid[2])),
                static_cast<std::int64_t>(v % static_cast<std::size_t>(grid[2]))};
    }
  }
  for (std::size_t a = 0; a < 3; ++a) {
    const std::int64_t room = grid[a] - patch[a];
    const std::int64_t wanted = centre.empty()
                                    ? static_cast<std::int64_t>(rng.below(static_cast<std::uint64_t>(room + 1)))
                                    : centre[a] - patch[a] / 2;
    start[a] = std::clamp<std::int64_t>(wanted, 0, room);
  }
  return start;
}

// A gamma transform of channel `x` inside the brain (`inside`, 0/1), with gamma in U(0.7, 1.5)
// on the channel rescaled to [0, 1] there, then scaled back. The range is found on the device
// and the choice whether it is usable (more than one voxel, hi > lo) is made there too, so no
// value travels back to the host.
torch::Tensor gamma_transform(const torch::Tensor& x, const torch::Tensor& inside, double gamma) {
  const torch::Tensor outside = inside == 0;
  const torch::Tensor lo = x.masked_fill(outside, std::numeric_limits<float>::infinity()).amin();
  const torch::Tensor hi = x.masked_fill(outside, -std::numeric_limits<float>::infinity()).amax();
  const torch::Tensor range = hi.to(torch::kDouble) - lo.to(torch::kDouble);
  const torch::Tensor usable = (outside.logical_not().sum() > 1).logical_and(hi > lo);
  return torch::where(usable, (((x - lo) / range).clamp(0.0, 1.0).pow(gamma) * range + lo) * inside, x);
}

// The training transforms of one case (make_batch's list), drawn from `rng`; returns the image
// and mask, on the case's device.
std::pair<torch::Tensor, torch::Tensor> augment(const CaseTensors& c, Rng& rng, const AugmentOptions& options) {
  torch::Tensor image = c.image, mask = c.mask;
  const c10::Device device = image.device();
  const std::vector<std::int64_t> grid = {image.size(1), image.size(2), image.size(3)};
  const auto patch_dhw = data::dhw(options.patch);
  const std::vector<std::int64_t> patch(patch_dhw.begin(), patch_dhw.end());
  if (patch[0] > 0 && (patch[0] < grid[0] || patch[1] < grid[1] || patch[2] < grid[2])) {
    const auto start = patch_start(*c.sample, grid, patch, options.oversample_tumour, rng);
    for (std::int64_t a = 0; a < 3; ++a) {
      image = image.narrow(a + 1, start[static_cast<std::size_t>(a)], patch[static_cast<std::size_t>(a)]);
      mask = mask.narrow(a + 1, start[static_cast<std::size_t>(a)], patch[static_cast<std::size_t>(a)]);
    }
  }
  const torch::Tensor brain = (image != 0).any(0, /*keepdim=*/true).to(torch::kFloat32);
  if (options.flips_and_intensity) {
    std::vector<std::int64_t> dims;
    for (std::int64_t axis = 1; axis <= 3; ++axis)
      if (rng.bernoulli(0.5)) dims.push_back(axis);
    if (!dims.empty()) {
      image = image.flip(dims);
      mask = mask.flip(dims);
    }
    // Intensity jitter per channel, inside the brain only (the background stays 0): sites
    // differ in contrast, and this keeps the network from keying on one site's scale.
    std::vector<float> scale(4), shift(4);
    for (std::size_t c = 0; c < 4; ++c) {
      scale[c] = static_cast<float>(rng.uniform(0.85, 1.15));
      shift[c] = static_cast<float>(rng.uniform(-0.15, 0.15));
    }
    const torch::Tensor region = dims.empty() ? brain : brain.flip(dims);
    image = (image * to_device(torch::tensor(scale).view({4, 1, 1, 1}), device) +
             to_device(torch::tensor(shift).view({4, 1, 1, 1}), device)) *
            region;
  }
  const torch::Tensor inside = (image != 0).any(0, /*keepdim=*/true).to(torch::kFloat32);
  if (options.gamma > 0) {
    std::vector<torch::Tensor> channels;
    for (std::int64_t c = 0; c < 4; ++c) {
      torch::Tensor x = image[c];
      if (rng.bernoulli(options.gamma)) x = gamma_transform(x, inside[0], rng.uniform(0.7, 1.5));
      channels.push_back(x);
    }
    image = torch::stack(channels);
  }
  if (options.noise > 0 && rng.bernoulli(options.noise)) {
    const double sd = rng.uniform(0.0, 0.1);
    auto generator = at::detail::createCPUGenerator(rng.next());
    image = image + to_device(torch::randn(image.sizes(), generator, torch::kFloat32), device) * sd * inside;
  }
  return {image.contiguous(), mask.contiguous()};
}

}  // namespace

Batch make_batch(const std::vector<CaseTensors>& cases, Rng* rng, const AugmentOptions& options) {
  TORCH_INTERNAL_ASSERT(!cases.empty());
  const c10::Device device = cases.front().image.device();
  const auto b = static_cast<std::int64_t>(cases.size());
  const std::int64_t m = static_cast<std::int64_t>(data::kMarkers.size());
  std::vector<torch::Tensor> images, masks;
  torch::Tensor mask_known = torch::zeros({b});
  torch::Tensor regions_known = torch::zeros({b});
  torch::Tensor marker_target = torch::zeros({b, m});
  torch::Tensor marker_known = torch::zeros({b, m});
  torch::Tensor grade_class = torch::zeros({b}, torch::kInt64);
  for (std::int64_t i = 0; i < b; ++i) {
    const CaseTensors& c = cases[static_cast<std::size_t>(i)];
    const data::Sample& s = *c.sample;
    if (rng) {
      auto [image, mask] = augment(c, *rng, options);
      images.push_back(image);
      masks.push_back(mask);
    } else {
      images.push_back(c.image);
      masks.push_back(c.mask);
    }
    mask_known[i] = s.mask.empty() ? 0.0 : 1.0;
    regions_known[i] = s.has_regions && !s.mask.empty() ? 1.0 : 0.0;
    for (std::int64_t k = 0; k < m; ++k) {
      if (const auto y = s.labels.binary(static_cast<std::size_t>(k))) {
        marker_target[i][k] = static_cast<double>(*y);
        marker_known[i][k] = 1.0;
      }
    }
    if (s.labels.grade) grade_class[i] = *s.labels.grade - 2;
  }
  Batch batch;
  batch.image = torch::stack(images);
  batch.targets = {torch::stack(masks), to_device(mask_known, device), to_device(marker_target, device),
                   to_device(marker_known, device), to_device(grade_class, device), to_device(regions_known, device)};
  return batch;
}

Batch make_batch(const std::vector<const data::Sample*>& samples, const c10::Device& device, Rng* rng,
                 const AugmentOptions& options) {
  std::vector<CaseTensors> cases;
  // Borrowed: the caller keeps the samples alive for the call (an aliasing pointer owns nothing).
  for (const data::Sample* s : samples)
    cases.push_back(case_tensors(std::shared_ptr<const data::Sample>(std::shared_ptr<void>(), s), device));
  return make_batch(cases, rng, options);
}

}  // namespace fedglioma::sim
