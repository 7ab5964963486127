#include "data/preprocess.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "core/error.h"
#include "data/scan_checks.h"
#include "data/label_conventions.h"
#include "data/nifti_io.h"

namespace fedglioma::data {
namespace {

namespace fs = std::filesystem;

std::string grid_text(const Geometry& g) {
  char buf[160];
  std::snprintf(buf, sizeof buf, "%lldx%lldx%lld voxels of %.3gx%.3gx%.3g mm", static_cast<long long>(g.size[0]),
                static_cast<long long>(g.size[1]), static_cast<long long>(g.size[2]), g.spacing[0], g.spacing[1],
                g.spacing[2]);
  return buf;
}

bool is_identity(const std::array<double, 9>& d) {
  for (int r = 0; r < 3; ++r)
    for (int c = 0; c < 3; ++c)
      if (std::abs(d[r * 3 + c] - (r == c ? 1.0 : 0.0)) > 1e-6) return false;
  return true;
}

// The network grid: axis-aligned, `spacing`, `size`, centred on the world bounding box of the
// foreground of `reference`. When `reference` is already axis-aligned with the same spacing,
// the origin is snapped to its voxel centres so that resampling copies voxels exactly.
Geometry network_grid(const FloatVolume& reference, const std::vector<std::uint8_t>& foreground,
                      const PreprocessOptions& options, const std::string& file) {
  const Geometry& g = reference.geometry;
  std::array<double, 3> lo{std::numeric_limits<double>::max(), std::numeric_limits<double>::max(),
                           std::numeric_limits<double>::max()};
  std::array<double, 3> hi{-lo[0], -lo[1], -lo[2]};
  bool any = false;
  std::size_t v = 0;
  for (std::int64_t k = 0; k < g.size[2]; ++k)
    for (std::int64_t j = 0; j < g.size[1]; ++j)
      for (std::int64_t i = 0; i < g.size[0]; ++i, ++v) {
        if (!foreground[v]) continue;
        any = true;
        const auto p = g.world(static_cast<double>(i), static_cast<double>(j), static_cast<double>(k));
        for (int d = 0; d < 3; ++d) {
          lo[d] = std::min(lo[d], p[d]);
          hi[d] = std::max(hi[d], p[d]);
        }
      }
  if (!any) throw DataError("'" + file + "': the image is all zero; expected a brain");
  Geometry out;
  out.size = options.size;
  out.spacing = options.spacing;
  out.direction = {1, 0, 0, 0, 1, 0, 0, 0, 1};
  for (int d = 0; d < 3; ++d) {
    const double centre = 0.5 * (lo[d] + hi[d]);
    out.origin[d] = centre - 0.5 * static_cast<double>(out.size[d] - 1) * out.spacing[d];
  }
  bool aligned = is_identity(g.direction);
  for (int d = 0; d < 3; ++d) aligned = aligned && std::abs(g.spacing[d] - out.spacing[d]) < 1e-6 * out.spacing[d];
  if (aligned)
    for (int d = 0; d < 3; ++d)
      out.origin[d] = g.origin[d] + std::round((out.origin[d] - g.origin[d]) / g.spacing[d]) * g.spacing[d];
  return out;
}

// Clips each channel of `image` (channel-major, `n` voxels each) to its 1st-99th percentile
// inside `foreground` and z-scores it there; background voxels become 0. Throws DataError naming
// `what` when a channel is empty or constant inside.
void zscore_inside(std::vector<float>& image, const std::vector<std::uint8_t>& foreground, std::size_t n,
                   const std::string& what) {
  for (std::size_t m = 0; m < image.size() / n; ++m) {
    float* channel = image.data() + m * n;
    std::vector<float> inside;
    inside.reserve(n);
    for (std::size_t v = 0; v < n; ++v)
      if (foreground[v]) inside.push_back(channel[v]);
    if (inside.size() < 2) throw DataError(what + ": " + kModalities[m] + " has no foreground (all zero)");
    std::sort(inside.begin(), inside.end());
    // 1st and 99th percentiles, linear interpolation between order statistics (numpy's default).
    auto percentile = [&](double q) {
      const double pos = q * static_cast<double>(inside.size() - 1);
      const auto i = static_cast<std::size_t>(pos);
      const float a = inside[i], b = inside[std::min(i + 1, inside.size() - 1)];
      return static_cast<float>(a + (pos - static_cast<double>(i)) * (b - a));
    };
    const float lo = percentile(0.01), hi = percentile(0.99);
    double sum = 0, sum_sq = 0;
    for (float x : inside) {
      const double c = std::clamp(x, lo, hi);
      sum += c;
      sum_sq += c * c;
    }
    const double count = static_cast<double>(inside.size());
    const double mu = sum / count;
    const double sd = std::sqrt(std::max(0.0, sum_sq / count - mu * mu));
    if (!(sd > 1e-6 * std::max(1.0, std::abs(mu))))
      throw DataError(what + ": " + kModalities[m] + " is constant inside the brain; expected image contrast");
    for (std::size_t v = 0; v < n; ++v)
      channel[v] = foreground[v] ? static_cast<float>((std::clamp(channel[v], lo, hi) - mu) / sd) : 0.0f;
  }
}

DataError off_grid(const std::string& where, const std::string& what, const Geometry& grid, const fs::path& reference,
                   const Geometry& reference_grid) {
  return DataError(where + ": " + what + " (" + grid_text(grid) + ") is not on the grid of '" + reference.string() + "' (" +
                   grid_text(reference_grid) + ")");
}

// The grids as the headers declare them, compared before any voxel is decompressed: a scan on
// another grid (a 512^3 series among 240x240x155 ones, say) is refused in milliseconds, not after
// a gigabyte of inflating. The modalities are compared only when they may not be resampled.
void check_header_grids(const Case& record, const PreprocessOptions& options, const std::string& where) {
  const Geometry reference = read_geometry(record.images[0], record.channels[0]);
  for (std::size_t m = 1; m < 4 && options.on_mismatch != "resample"; ++m) {
    const Geometry grid = read_geometry(record.images[m], record.channels[m]);
    if (!grid.same_grid(reference))
      throw DataError(off_grid(where, "'" + record.images[m].string() + "'", grid, record.images[0], reference).what() +
                      std::string("; co-register the modalities or set data.on_geometry_mismatch to \"resample\""));
  }
  if (!record.mask) return;
  const Geometry grid = read_geometry(*record.mask);
  if (!grid.same_grid(reference)) throw off_grid(where, "mask '" + record.mask->string() + "'", grid, record.images[0], reference);
}

}  // namespace

bool reads_regions(const Case& record, const PreprocessOptions& options) {
  return options.regions && record.mask && label_convention(record.label_convention).has_regions();
}

Sample preprocess_case(const Case& record, const PreprocessOptions& options, GridMapping* mapping) {
  const std::string where = "case '" + record.id + "'";
  check_header_grids(record, options, where);
  std::array<FloatVolume, 4> images;
  bool one_grid = true;
  for (std::size_t m = 0; m < 4; ++m) {
    images[m] = read_image(record.images[m], record.channels[m]);
    one_grid = one_grid && images[m].geometry.same_grid(images[0].geometry);
  }
  if (!one_grid) {  // on_mismatch is "resample": only scans already co-registered may be
    check_coregistered(images, record.images, where);
    for (std::size_t m = 1; m < 4; ++m)
      if (!images[m].geometry.same_grid(images[0].geometry))
        images[m] = resample(images[m], images[0].geometry, Interpolation::kLinear);
  }
  if (options.warn)
    if (const auto warning = skull_warning(images[0], record.images[0])) options.warn(where + ": " + *warning);
  const Geometry& original = images[0].geometry;
  const auto n0 = static_cast<std::size_t>(original.voxel_count());
  std::vector<std::uint8_t> head(n0, 0);
  for (const auto& image : images)
    for (std::size_t v = 0; v < n0; ++v) head[v] |= image.voxels[v] != 0.0f;
  const Geometry grid = network_grid(images[0], head, options, record.images[0].string());
  if (mapping) *mapping = {grid, original};

  Sample sample{record.id, record.patient_id(), record.site, record.split, record.labels, grid, {}, {}};
  const auto n = static_cast<std::size_t>(grid.voxel_count());
  sample.image.resize(4 * n);
  for (std::size_t m = 0; m < 4; ++m) {
    const FloatVolume resampled = resample(images[m], grid, Interpolation::kLinear);
    std::copy(resampled.voxels.begin(), resampled.voxels.end(), sample.image.begin() + static_cast<std::ptrdiff_t>(m * n));
  }
  std::vector<std::uint8_t> foreground(n, 0);
  for (std::size_t m = 0; m < 4; ++m)
    for (std::size_t v = 0; v < n; ++v) foreground[v] |= sample.image[m * n + v] != 0.0f;
  zscore_inside(sample.image, foreground, n, where);

  if (record.mask) {
    const MaskVolume labels = read_labels(*record.mask);  // on the grid: check_header_grids
    const LabelConvention& convention = label_convention(record.label_convention);
    const std::string what = where + ": mask '" + record.mask->string() + "'";
    sample.has_regions = reads_regions(record, options);
    const std::vector<std::uint8_t> codes = sample.has_regions ? tumour_regions(labels.voxels, convention, what)
                                                               : whole_tumour(labels.voxels, convention, what);
    FloatVolume coded;
    coded.geometry = labels.geometry;
    coded.voxels.assign(codes.begin(), codes.end());
    const FloatVolume on_grid = resample(coded, grid, Interpolation::kNearest);
    sample.mask.resize(n);
    sample.has_mask = true;
    for (std::size_t v = 0; v < n; ++v) sample.mask[v] = static_cast<std::uint8_t>(std::lround(on_grid.voxels[v]));
  }
  return sample;
}

FloatVolume to_original_grid(const FloatVolume& network_values, const GridMapping& mapping) {
  return resample(network_values, mapping.original, Interpolation::kLinear);
}

MaskVolume to_original_grid(const MaskVolume& network_labels, const GridMapping& mapping) {
  FloatVolume source;
  source.geometry = mapping.network;
  source.voxels.assign(network_labels.voxels.begin(), network_labels.voxels.end());
  const FloatVolume back = resample(source, mapping.original, Interpolation::kNearest);
  MaskVolume out;
  out.geometry = mapping.original;
  out.voxels.resize(back.voxels.size());
  for (std::size_t v = 0; v < back.voxels.size(); ++v) out.voxels[v] = static_cast<std::uint8_t>(std::lround(back.voxels[v]));
  return out;
}

}  // namespace fedglioma::data
