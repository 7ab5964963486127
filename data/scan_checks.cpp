#include "data/scan_checks.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <vector>

#include "core/error.h"
#include "data/manifest.h"

namespace fedglioma::data {

namespace {

// The head's voxels: brighter than a tenth of the 99th percentile of the non-zero ones; none
// when the image is all zero.
template <typename Visit>
void for_head_voxels(const FloatVolume& image, Visit visit) {
  std::vector<float> nonzero;
  for (const float v : image.voxels)
    if (v != 0.0f) nonzero.push_back(std::abs(v));
  if (nonzero.empty()) return;
  const auto p99 = nonzero.begin() + static_cast<std::ptrdiff_t>(0.99 * static_cast<double>(nonzero.size() - 1));
  std::nth_element(nonzero.begin(), p99, nonzero.end());
  const double threshold = 0.1 * *p99;
  const Geometry& g = image.geometry;
  std::size_t v = 0;
  for (std::int64_t k = 0; k < g.size[2]; ++k)
    for (std::int64_t j = 0; j < g.size[1]; ++j)
      for (std::int64_t i = 0; i < g.size[0]; ++i, ++v)
        if (std::abs(image.voxels[v]) > threshold)
          visit(g.world(static_cast<double>(i), static_cast<double>(j), static_cast<double>(k)));
}

}  // namespace

std::array<double, 3> head_centre(const FloatVolume& image) {
  std::array<double, 3> sum{0, 0, 0};
  double count = 0;
  for_head_voxels(image, [&](const std::array<double, 3>& p) {
    for (int d = 0; d < 3; ++d) sum[d] += p[d];
    ++count;
  });
  const Geometry& g = image.geometry;
  if (count == 0)
    return g.world(0.5 * static_cast<double>(g.size[0] - 1), 0.5 * static_cast<double>(g.size[1] - 1),
                   0.5 * static_cast<double>(g.size[2] - 1));
  return {sum[0] / count, sum[1] / count, sum[2] / count};
}

std::array<double, 2> head_extent(const FloatVolume& image) {
  std::array<double, 2> lo{1e300, 1e300}, hi{-1e300, -1e300};
  for_head_voxels(image, [&](const std::array<double, 3>& p) {
    for (int d = 0; d < 2; ++d) {
      lo[d] = std::min(lo[d], p[d]);
      hi[d] = std::max(hi[d], p[d]);
    }
  });
  return {std::max(0.0, hi[0] - lo[0]), std::max(0.0, hi[1] - lo[1])};
}

std::optional<std::string> skull_warning(const FloatVolume& image, const std::filesystem::path& file) {
  const std::array<double, 2> extent = head_extent(image);
  if (extent[0] <= kBrainMaxWidthMm && extent[1] <= kBrainMaxLengthMm) return std::nullopt;
  char text[400];
  std::snprintf(text, sizeof text,
                "'%s': the head spans %.0f mm left-right and %.0f mm front-back, more than a skull-stripped brain "
                "(%.0f x %.0f mm): the skull looks left on; the models expect skull-stripped scans, as BraTS ships them",
                file.c_str(), extent[0], extent[1], kBrainMaxWidthMm, kBrainMaxLengthMm);
  return std::string(text);
}

void check_coregistered(const std::array<FloatVolume, 4>& images, const std::array<std::filesystem::path, 4>& files,
                        const std::string& where) {
  const std::array<double, 3> reference = head_centre(images[0]);
  for (std::size_t m = 1; m < 4; ++m) {
    const std::array<double, 3> centre = head_centre(images[m]);
    const double distance = std::hypot(centre[0] - reference[0], centre[1] - reference[1], centre[2] - reference[2]);
    if (distance <= kCoregistrationToleranceMm) continue;
    char mm[32];
    std::snprintf(mm, sizeof mm, "%.1f", distance);
    throw DataError(where + ": the " + kModalities[m] + " '" + files[m].string() + "' is not co-registered with the " +
                    kModalities[0] + " '" + files[0].string() + "': their heads' centres lie " + mm +
                    " mm apart in world coordinates (co-registered scans agree within " +
                    std::to_string(static_cast<int>(kCoregistrationToleranceMm)) +
                    " mm); co-register the modalities (to the T1, say) before fedglioma reads them: resampling "
                    "cannot align them");
  }
}

}  // namespace fedglioma::data
