#include "sim/batch.h"

#include "core/random.h"

namespace fedglioma::sim {

Batch make_batch(const std::vector<const data::Sample*>& samples, const c10::Device& device, Rng* augment) {
  TORCH_INTERNAL_ASSERT(!samples.empty());
  const auto& size = samples.front()->geometry.size;
  const std::vector<std::int64_t> grid = {size[2], size[1], size[0]};  // (k, j, i) = (D, H, W)
  const auto b = static_cast<std::int64_t>(samples.size());
  const std::int64_t m = static_cast<std::int64_t>(data::kMarkers.size());
  std::vector<torch::Tensor> images, masks;
  torch::Tensor mask_known = torch::zeros({b});
  torch::Tensor marker_target = torch::zeros({b, m});
  torch::Tensor marker_known = torch::zeros({b, m});
  for (std::int64_t i = 0; i < b; ++i) {
    const data::Sample& s = *samples[static_cast<std::size_t>(i)];
    torch::Tensor image = torch::from_blob(const_cast<float*>(s.image.data()), {4, grid[0], grid[1], grid[2]},
                                           torch::kFloat32);
    torch::Tensor mask = s.mask.empty()
                             ? torch::zeros({1, grid[0], grid[1], grid[2]})
                             : torch::from_blob(const_cast<std::uint8_t*>(s.mask.data()),
                                                {1, grid[0], grid[1], grid[2]}, torch::kUInt8)
                                   .to(torch::kFloat32);
    if (augment) {
      std::vector<std::int64_t> dims;
      for (std::int64_t axis = 1; axis <= 3; ++axis)
        if (augment->bernoulli(0.5)) dims.push_back(axis);
      if (!dims.empty()) {
        image = image.flip(dims);
        mask = mask.flip(dims);
      }
      // Intensity jitter per channel, inside the brain only (the background stays 0): sites
      // differ in contrast, and this keeps the network from keying on one site's scale.
      const torch::Tensor brain = (image != 0).any(0, /*keepdim=*/true).to(torch::kFloat32);
      std::vector<float> scale(4), shift(4);
      for (std::size_t c = 0; c < 4; ++c) {
        scale[c] = static_cast<float>(augment->uniform(0.85, 1.15));
        shift[c] = static_cast<float>(augment->uniform(-0.15, 0.15));
      }
      image = (image * torch::tensor(scale).view({4, 1, 1, 1}) + torch::tensor(shift).view({4, 1, 1, 1})) * brain;
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
  }
  return {torch::stack(images).to(device), torch::stack(masks).to(device), mask_known.to(device),
          marker_target.to(device), marker_known.to(device)};
}

}  // namespace fedglioma::sim
