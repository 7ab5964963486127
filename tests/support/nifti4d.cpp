#include "tests/support/nifti4d.h"

#include <array>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <stdexcept>
#include <string>

namespace fedglioma::testing {

namespace {

template <typename T>
void put(std::string& header, std::size_t at, T value) {
  std::memcpy(&header[at], &value, sizeof(T));
}

}  // namespace

void write_nifti_4d(const std::filesystem::path& path, const std::vector<data::FloatVolume>& volumes) {
  const data::Geometry& g = volumes.at(0).geometry;
  std::string header(352, '\0');  // the 348-byte header and an empty extension block
  put<std::int32_t>(header, 0, 348);
  const std::array<std::int16_t, 8> dim{4, static_cast<std::int16_t>(g.size[0]), static_cast<std::int16_t>(g.size[1]),
                                        static_cast<std::int16_t>(g.size[2]), static_cast<std::int16_t>(volumes.size()),
                                        1, 1, 1};
  for (std::size_t d = 0; d < 8; ++d) put<std::int16_t>(header, 40 + 2 * d, dim[d]);
  put<std::int16_t>(header, 70, 16);  // float32
  put<std::int16_t>(header, 72, 32);
  const std::array<float, 8> pixdim{1.0f, static_cast<float>(g.spacing[0]), static_cast<float>(g.spacing[1]),
                                    static_cast<float>(g.spacing[2]), 1.0f, 1.0f, 1.0f, 1.0f};
  for (std::size_t d = 0; d < 8; ++d) put<float>(header, 76 + 4 * d, pixdim[d]);
  put<float>(header, 108, 352.0f);  // vox_offset
  put<float>(header, 112, 1.0f);    // scl_slope
  header[123] = 2;                  // xyzt_units: mm
  put<std::int16_t>(header, 254, 1);  // sform_code: scanner; qform_code stays 0
  // NIfTI's world is RAS, fedglioma's (ITK's) LPS: the x and y rows change sign.
  for (std::size_t r = 0; r < 3; ++r) {
    const float sign = r < 2 ? -1.0f : 1.0f;
    for (std::size_t c = 0; c < 3; ++c)
      put<float>(header, 280 + 16 * r + 4 * c, sign * static_cast<float>(g.direction[r * 3 + c] * g.spacing[c]));
    put<float>(header, 280 + 16 * r + 12, sign * static_cast<float>(g.origin[r]));
  }
  std::memcpy(&header[344], "n+1\0", 4);
  std::ofstream out(path, std::ios::binary);
  out.write(header.data(), static_cast<std::streamsize>(header.size()));
  for (const data::FloatVolume& v : volumes) {
    if (!v.geometry.same_grid(g)) throw std::invalid_argument("write_nifti_4d: volumes on different grids");
    out.write(reinterpret_cast<const char*>(v.voxels.data()), static_cast<std::streamsize>(v.voxels.size() * sizeof(float)));
  }
  if (!out) throw std::runtime_error("write_nifti_4d: cannot write '" + path.string() + "'");
}

}  // namespace fedglioma::testing
