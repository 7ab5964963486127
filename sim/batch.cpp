#include "sim/batch.h"

#include <ATen/CPUGeneratorImpl.h>

#include <algorithm>

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
      centre = {static_cast<std::int64_t>(v / plane), static_cast<std::int64_t>((v % plane) / static_cast<std::size_t>(grid[2])),
                static_cast<std::int64_t>(v % static_cast<std::size_t>(grid[2]))};
    }
  }
  for (std::size_t a = 0; a < 3; ++a) {
    const std::int64_t room = grid[a] - patch[a];
    const std::int64_t wanted = centre.empty() ? static_cast<std::int64_t>(rng.below(static_cast<std::uint64_t>(room + 1)))
                                               : centre[a] - patch[a] / 2;
    start[a] = std::clamp<std::int64_t>(wanted, 0, room);
  }
  return start;
}

}  // namespace

Batch make_batch(const std::vector<const data::Sample*>& samples, const c10::Device& device, Rng* rng,
                 const AugmentOptions& options) {
  TORCH_INTERNAL_ASSERT(!samples.empty());
  const auto& size = samples.front()->geometry.size;
  const std::vector<std::int64_t> grid = {size[2], size[1], size[0]};  // (k, j, i) = (D, H, W)
  const auto b = static_cast<std::int64_t>(samples.size());
  const std::int64_t m = static_cast<std::int64_t>(data::kMarkers.size());
  std::vector<torch::Tensor> images, masks;
  torch::Tensor mask_known = torch::zeros({b});
  torch::Tensor marker_target = torch::zeros({b, m});
  torch::Tensor marker_known = torch::zeros({b, m});
  torch::Tensor grade_class = torch::zeros({b}, torch::kInt64);
  for (std::int64_t i = 0; i < b; ++i) {
    const data::Sample& s = *samples[static_cast<std::size_t>(i)];
    torch::Tensor image = torch::from_blob(const_cast<float*>(s.image.data()), {4, grid[0], grid[1], grid[2]},
                                           torch::kFloat32);
    torch::Tensor mask = s.mask.empty()
                             ? torch::zeros({1, grid[0], grid[1], grid[2]})
                             : torch::from_blob(const_cast<std::uint8_t*>(s.mask.data()),
                                                {1, grid[0], grid[1], grid[2]}, torch::kUInt8)
                                   .to(torch::kFloat32);
    if (rng) {
      const std::vector<std::int64_t> patch = {options.patch[2], options.patch[1], options.patch[0]};
      if (patch[0] > 0 && (patch[0] < grid[0] || patch[1] < grid[1] || patch[2] < grid[2])) {
        const auto start = patch_start(s, grid, patch, options.oversample_tumour, *rng);
        for (std::int64_t a = 0; a < 3; ++a) {
          image = image.narrow(a + 1, start[static_cast<std::size_t>(a)], patch[static_cast<std::size_t>(a)]);
          mask = mask.narrow(a + 1, start[static_cast<std::size_t>(a)], patch[static_cast<std::size_t>(a)]);
        }
      }
      const torch::Tensor brain = (image != 0).any(0, /*keepdim=*/true).to(torch::kFloat32);
      if (options.flips_and_intensity) {
        std::vector<std::int64_t> dims;
        for (std::int64_t axis = 1; axis <= 3; ++axis)
          if (rng->bernoulli(0.5)) dims.push_back(axis);
        if (!dims.empty()) {
          image = image.flip(dims);
          mask = mask.flip(dims);
        }
        // Intensity jitter per channel, inside the brain only (the background stays 0): sites
        // differ in contrast, and this keeps the network from keying on one site's scale.
        std::vector<float> scale(4), shift(4);
        for (std::size_t c = 0; c < 4; ++c) {
          scale[c] = static_cast<float>(rng->uniform(0.85, 1.15));
          shift[c] = static_cast<float>(rng->uniform(-0.15, 0.15));
        }
        const torch::Tensor region = dims.empty() ? brain : brain.flip(dims);
        image = (image * torch::tensor(scale).view({4, 1, 1, 1}) + torch::tensor(shift).view({4, 1, 1, 1})) * region;
      }
      const torch::Tensor inside = (image != 0).any(0, /*keepdim=*/true).to(torch::kFloat32);
      if (options.gamma > 0) {
        std::vector<torch::Tensor> channels;
        for (std::int64_t c = 0; c < 4; ++c) {
          torch::Tensor x = image[c];
          if (rng->bernoulli(options.gamma)) {
            const double gamma = rng->uniform(0.7, 1.5);
            const torch::Tensor values = x.masked_select(inside[0] > 0);
            if (values.numel() > 1) {
              const double lo = values.min().item<double>(), hi = values.max().item<double>();
              if (hi > lo) x = (((x - lo) / (hi - lo)).clamp(0.0, 1.0).pow(gamma) * (hi - lo) + lo) * inside[0];
            }
          }
          channels.push_back(x);
        }
        image = torch::stack(channels);
      }
      if (options.noise > 0 && rng->bernoulli(options.noise)) {
        const double sd = rng->uniform(0.0, 0.1);
        auto generator = at::detail::createCPUGenerator(rng->next());
        image = image + torch::randn(image.sizes(), generator, torch::kFloat32) * sd * inside;
      }
      image = image.contiguous();
      mask = mask.contiguous();
    }
    images.push_back(image);
    masks.push_back(mask);
    mask_known[i] = s.mask.empty() ? 0.0 : 1.0;
    for (std::int64_t k = 0; k < m; ++k) {
      if (const auto y = s.labels.binary(static_cast<std::size_t>(k))) {
        marker_target[i][k] = static_cast<double>(*y);
        marker_known[i][k] = 1.0;
      }
    }
    if (s.labels.grade) grade_class[i] = *s.labels.grade - 2;
  }
  Batch batch;
  batch.image = torch::stack(images).to(device);
  batch.targets = {torch::stack(masks).to(device), mask_known.to(device), marker_target.to(device),
                   marker_known.to(device), grade_class.to(device)};
  return batch;
}

}  // namespace fedglioma::sim
