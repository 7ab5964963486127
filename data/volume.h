#pragma once

#include <array>
#include <cstdint>
#include <vector>

namespace fedglioma::data {

/// Physical placement of a voxel grid, as NIfTI/ITK define it (LPS world coordinates, mm).
struct Geometry {
  std::array<std::int64_t, 3> size{0, 0, 0};  ///< voxels along i, j, k (i fastest in memory)
  std::array<double, 3> spacing{1.0, 1.0, 1.0};
  std::array<double, 3> origin{0.0, 0.0, 0.0};
  std::array<double, 9> direction{1, 0, 0, 0, 1, 0, 0, 0, 1};  ///< row-major 3x3

  std::int64_t voxel_count() const { return size[0] * size[1] * size[2]; }
  /// Same grid within `tolerance` (relative for spacing, mm for origin).
  bool same_grid(const Geometry& other, double tolerance = 1e-4) const;
  /// World (LPS, mm) position of the (possibly fractional) voxel index (i, j, k).
  std::array<double, 3> world(double i, double j, double k) const;
};

/// A scalar 3D image in memory. Voxels are stored with i fastest, which is ITK's buffer order and
/// also the row-major order of a tensor shaped [k, j, i] (D, H, W): the one place where the two
/// conventions meet is this struct.
template <typename T>
struct Volume {
  Geometry geometry;
  std::vector<T> voxels;
};

/// A grid's extent along (i, j, k), the order of NIfTI and configs, as a tensor's (D, H, W):
/// reversed, since i runs fastest in memory. Every place that shapes a tensor from a grid uses it.
inline std::array<std::int64_t, 3> dhw(const std::array<std::int64_t, 3>& ijk) { return {ijk[2], ijk[1], ijk[0]}; }

using FloatVolume = Volume<float>;
using MaskVolume = Volume<std::uint8_t>;

}  // namespace fedglioma::data
