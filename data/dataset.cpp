#include "data/dataset.h"

#include <algorithm>
#include <cmath>
#include <exception>

#include "core/error.h"
#include "data/nifti_io.h"

namespace fedglioma::data {
namespace {

std::string grid_text(const Geometry& g) {
  return std::to_string(g.size[0]) + "x" + std::to_string(g.size[1]) + "x" + std::to_string(g.size[2]);
}

// Percentile of `values` by linear interpolation between order statistics (numpy's default).
float percentile(std::vector<float> values, double q) {
  const double pos = q * static_cast<double>(values.size() - 1);
  const auto lo = static_cast<std::size_t>(pos);
  std::nth_element(values.begin(), values.begin() + static_cast<std::ptrdiff_t>(lo), values.end());
  const float a = values[lo];
  if (lo + 1 >= values.size()) return a;
  const float b = *std::min_element(values.begin() + static_cast<std::ptrdiff_t>(lo) + 1, values.end());
  return static_cast<float>(a + (pos - static_cast<double>(lo)) * (b - a));
}

}  // namespace

Sample load_sample(const Case& record, const std::array<std::int64_t, 3>& expected_size) {
  const std::string where = "case '" + record.id + "'";
  Sample sample{record.id, record.site, record.split, record.labels, {}, {}, {}};
  std::array<FloatVolume, 4> images;
  for (std::size_t m = 0; m < 4; ++m) {
    images[m] = read_image(record.images[m]);
    if (m > 0 && !images[m].geometry.same_grid(images[0].geometry))
      throw DataError(where + ": '" + record.images[m].string() + "' (" + grid_text(images[m].geometry) +
                      ") is not on the grid of '" + record.images[0].string() + "' (" +
                      grid_text(images[0].geometry) + "); the four modalities must be co-registered");
  }
  const Geometry& geometry = images[0].geometry;
  if (geometry.size != expected_size)
    throw DataError(where + ": '" + record.images[0].string() + "' has a " + grid_text(geometry) +
                    " grid but data.size is " + std::to_string(expected_size[0]) + "x" +
                    std::to_string(expected_size[1]) + "x" + std::to_string(expected_size[2]));
  sample.geometry = geometry;
  const auto n = static_cast<std::size_t>(geometry.voxel_count());

  std::vector<std::uint8_t> foreground(n, 0);
  for (const auto& image : images)
    for (std::size_t v = 0; v < n; ++v) foreground[v] |= image.voxels[v] != 0.0f;
  sample.image.resize(4 * n);
  for (std::size_t m = 0; m < 4; ++m) {
    std::vector<float> inside;
    inside.reserve(n);
    for (std::size_t v = 0; v < n; ++v)
      if (foreground[v]) inside.push_back(images[m].voxels[v]);
    if (inside.size() < 2)
      throw DataError(where + ": '" + record.images[m].string() + "' has no foreground (all zero)");
    const float lo = percentile(inside, 0.01), hi = percentile(inside, 0.99);
    double sum = 0, sum_sq = 0;
    for (float& x : inside) {
      x = std::clamp(x, lo, hi);
      sum += x;
      sum_sq += static_cast<double>(x) * x;
    }
    const double mu = sum / static_cast<double>(inside.size());
    const double sd = std::sqrt(std::max(0.0, sum_sq / static_cast<double>(inside.size()) - mu * mu));
    if (sd < 1e-6 * std::max(1.0, std::abs(mu)))
      throw DataError(where + ": '" + record.images[m].string() +
                      "' is constant inside the head; expected image contrast");
    float* out = sample.image.data() + m * n;
    for (std::size_t v = 0; v < n; ++v)
      out[v] = foreground[v]
                   ? static_cast<float>((std::clamp(images[m].voxels[v], lo, hi) - mu) / sd)
                   : 0.0f;
  }

  if (record.mask) {
    MaskVolume mask = read_labels(*record.mask);
    if (!mask.geometry.same_grid(geometry))
      throw DataError(where + ": mask '" + record.mask->string() + "' (" + grid_text(mask.geometry) +
                      ") is not on the grid of '" + record.images[0].string() + "' (" +
                      grid_text(geometry) + ")");
    sample.mask.resize(n);
    for (std::size_t v = 0; v < n; ++v) {
      const std::uint8_t label = mask.voxels[v];
      if (label > 4)
        throw DataError(where + ": mask '" + record.mask->string() + "' holds label " +
                        std::to_string(label) + "; expected 0/1 or BraTS labels 1, 2, 3, 4");
      sample.mask[v] = label != 0;
    }
  }
  return sample;
}

std::vector<Sample> load_samples(const std::vector<const Case*>& records,
                                 const std::array<std::int64_t, 3>& expected_size, int threads) {
  std::vector<Sample> out(records.size());
  std::vector<std::exception_ptr> errors(records.size());
#pragma omp parallel for num_threads(std::max(1, threads)) schedule(dynamic)
  for (std::size_t i = 0; i < records.size(); ++i) {
    try {
      out[i] = load_sample(*records[i], expected_size);
    } catch (...) {
      errors[i] = std::current_exception();
    }
  }
  // The first failing case in manifest order is reported, whatever thread met it first.
  for (const auto& e : errors)
    if (e) std::rethrow_exception(e);
  return out;
}

}  // namespace fedglioma::data
