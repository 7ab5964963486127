#include "data/nifti_header.h"

#include <algorithm>
#include <array>

#include <zlib.h>

#include <cmath>
#include <cstring>
#include <string>

#include "core/error.h"

namespace fedglioma::data {
namespace fs = std::filesystem;

namespace {

bool has_header(const fs::path& path) {
  const std::string name = path.filename().string();
  for (const char* tail : {".nii", ".nii.gz", ".hdr", ".hdr.gz"}) {
    const std::size_t n = std::strlen(tail);
    if (name.size() >= n && name.compare(name.size() - n, n, tail) == 0) return true;
  }
  return false;
}

// Reads the field at byte `at` of `bytes`, in the header's byte order.
template <typename T>
T field(const unsigned char* bytes, std::size_t at, bool swapped) {
  unsigned char raw[sizeof(T)];
  std::memcpy(raw, bytes + at, sizeof(T));
  if (swapped)
    for (std::size_t i = 0; i < sizeof(T) / 2; ++i) std::swap(raw[i], raw[sizeof(T) - 1 - i]);
  T value;
  std::memcpy(&value, raw, sizeof(T));
  return value;
}

std::string number(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "infinity" : "-infinity";
  char text[32];
  std::snprintf(text, sizeof text, "%g", v);
  return text;
}

}  // namespace

std::optional<NiftiHeader> read_nifti_header(const fs::path& path) {
  if (!has_header(path)) return std::nullopt;
  gzFile file = gzopen(path.c_str(), "rb");  // reads plain files as they are
  if (!file) throw DataError("'" + path.string() + "': not readable");
  unsigned char bytes[348];
  const int got = gzread(file, bytes, sizeof bytes);
  gzclose(file);
  if (got != static_cast<int>(sizeof bytes)) throw DataError("'" + path.string() + "': file is truncated or corrupt");
  NiftiHeader h;
  const auto sizeof_hdr = field<std::int32_t>(bytes, 0, false);
  h.swapped = sizeof_hdr != 348;
  if (h.swapped && field<std::int32_t>(bytes, 0, true) != 348) return std::nullopt;  // not NIfTI-1
  for (std::size_t d = 0; d < 8; ++d) {
    h.dim[d] = field<std::int16_t>(bytes, 40 + 2 * d, h.swapped);
    h.pixdim[d] = field<float>(bytes, 76 + 4 * d, h.swapped);
  }
  h.datatype = field<std::int16_t>(bytes, 70, h.swapped);
  h.vox_offset = field<float>(bytes, 108, h.swapped);
  h.qform_code = field<std::int16_t>(bytes, 252, h.swapped);
  h.sform_code = field<std::int16_t>(bytes, 254, h.swapped);
  for (std::size_t i = 0; i < 3; ++i) {
    h.quatern[i] = field<float>(bytes, 256 + 4 * i, h.swapped);
    h.qoffset[i] = field<float>(bytes, 268 + 4 * i, h.swapped);
    for (std::size_t j = 0; j < 4; ++j) h.srow[i][j] = field<float>(bytes, 280 + 16 * i + 4 * j, h.swapped);
  }
  return h;
}

void check_header_geometry(const NiftiHeader& h, const fs::path& path) {
  const std::string file = "'" + path.string() + "': header field ";
  for (std::size_t d = 1; d <= 3; ++d)
    if (!std::isfinite(h.pixdim[d]) || h.pixdim[d] == 0.0f)
      throw DataError(file + "pixdim[" + std::to_string(d) + "] is " + number(h.pixdim[d]) +
                      " (expected a finite, non-zero voxel spacing)");
  const char* axes = "xyz";
  if (h.qform_code > 0) {
    const char* names[] = {"quatern_b", "quatern_c", "quatern_d"};
    for (std::size_t i = 0; i < 3; ++i) {
      if (!std::isfinite(h.quatern[i]))
        throw DataError(file + names[i] + " is " + number(h.quatern[i]) + " (expected a finite qform rotation)");
      if (!std::isfinite(h.qoffset[i]))
        throw DataError(file + "qoffset_" + axes[i] + " is " + number(h.qoffset[i]) + " (expected a finite origin)");
    }
  }
  if (h.sform_code > 0) {
    for (std::size_t i = 0; i < 3; ++i)
      for (std::size_t j = 0; j < 4; ++j)
        if (!std::isfinite(h.srow[i][j]))
          throw DataError(file + "srow_" + axes[i] + "[" + std::to_string(j) + "] is " + number(h.srow[i][j]) +
                          " (expected a finite sform affine)");
    const auto& m = h.srow;
    const double det = static_cast<double>(m[0][0]) *
                           (static_cast<double>(m[1][1]) * m[2][2] - static_cast<double>(m[1][2]) * m[2][1]) -
                       static_cast<double>(m[0][1]) *
                           (static_cast<double>(m[1][0]) * m[2][2] - static_cast<double>(m[1][2]) * m[2][0]) +
                       static_cast<double>(m[0][2]) *
                           (static_cast<double>(m[1][0]) * m[2][1] - static_cast<double>(m[1][1]) * m[2][0]);
    if (det == 0.0) throw DataError(file + "srow_x/y/z is singular (expected an invertible sform affine)");
  }
}

void check_header_extent(const NiftiHeader& header, const std::filesystem::path& path) {
  static const std::array<int, 10> kScalarTypes = {2, 4, 8, 16, 64, 256, 512, 768, 1024, 1280};
  if (std::find(kScalarTypes.begin(), kScalarTypes.end(), header.datatype) == kScalarTypes.end())
    throw DataError("'" + path.string() + "': header field datatype is " + std::to_string(header.datatype) +
                    " (expected a scalar voxel type: 2, 4, 8, 16, 64, 256, 512, 768, 1024 or 1280)");
  const int rank = header.dim[0];
  if (rank < 1 || rank > 7)
    throw DataError("'" + path.string() + "': header field dim[0] (the rank) is " + std::to_string(rank) +
                    ", expected 1 to 7");
  std::uint64_t voxels = 1;
  std::string sizes;
  for (int d = 1; d <= rank; ++d) {
    if (header.dim[d] < 1)
      throw DataError("'" + path.string() + "': header field dim[" + std::to_string(d) + "] is " +
                      std::to_string(header.dim[d]) + ", expected a size of at least 1");
    voxels *= static_cast<std::uint64_t>(header.dim[d]);  // at most 32767^7 < 2^105: checked as it grows
    sizes += (d > 1 ? " x " : "") + std::to_string(header.dim[d]);
    if (voxels > kMaxScanVoxels)
      throw DataError("'" + path.string() + "': the header declares " + sizes + (d < rank ? " x ..." : "") +
                      " voxels, more than the " + std::to_string(kMaxScanVoxels) +
                      " (about 645^3) fedglioma reads from one scan");
  }
}

namespace {

// .nii and .nii.gz hold header and voxels in one file; .hdr/.img pairs keep them apart.
bool is_single_file_nifti(const fs::path& path) {
  const std::string name = path.filename().string();
  const auto ends_with = [&](const std::string& tail) {
    return name.size() >= tail.size() && name.compare(name.size() - tail.size(), tail.size(), tail) == 0;
  };
  return ends_with(".nii") || ends_with(".nii.gz");
}

}  // namespace

// ITK's NIfTI reader accepts a truncated file and fills the missing voxels with zeros, so the
// length is checked here: an uncompressed file must hold the header and every voxel; a gzip
// file's trailer (ISIZE: the uncompressed length mod 2^32) must account for every voxel plus a
// header of at most 1 MiB of extensions. A cut-off gzip file ends in arbitrary compressed bytes,
// which pass that test with a probability of about 1 in 4000.
void check_complete(const fs::path& path, std::uint64_t voxel_bytes) {
  if (!is_single_file_nifti(path)) return;
  std::error_code ec;
  const std::uint64_t size = fs::file_size(path, ec);
  if (ec) throw DataError("'" + path.string() + "': cannot read its size: " + ec.message());
  const std::string truncated = "'" + path.string() + "': file is truncated or corrupt (expected " +
                                std::to_string(voxel_bytes) + " bytes of voxel data)";
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (!f) throw DataError("'" + path.string() + "': not readable");
  unsigned char magic[2] = {0, 0}, trailer[4] = {0, 0, 0, 0};
  const bool got_magic = std::fread(magic, 1, 2, f) == 2;
  const bool gzip = got_magic && magic[0] == 0x1f && magic[1] == 0x8b;
  bool got_trailer = false;
  if (gzip && size >= 18 && std::fseek(f, -4, SEEK_END) == 0) got_trailer = std::fread(trailer, 1, 4, f) == 4;
  std::fclose(f);
  if (!gzip) {
    if (size < 348 + voxel_bytes) throw DataError(truncated);
    return;
  }
  if (!got_trailer) throw DataError(truncated);
  const std::uint64_t isize = trailer[0] | (trailer[1] << 8) | (trailer[2] << 16) | (std::uint64_t{trailer[3]} << 24);
  const std::uint64_t expected = (voxel_bytes + 348) & 0xFFFFFFFFULL;
  const std::uint64_t extra = (isize - expected) & 0xFFFFFFFFULL;  // header beyond 348 bytes, mod 2^32
  if (extra > (1u << 20)) throw DataError(truncated);
}

// ITK's NIfTI reader turns NaN and infinite voxels into 0, so a float file is scanned here, in its
// stored form, before ITK reads it: a non-finite intensity is an error, never a silent 0. zlib's
// gzread reads plain .nii files as they are. Only float32/float64 voxels (NIfTI datatype 16/64,
// read from the header: ITK reports scaled integer files as float too) can be non-finite.
void check_finite(const fs::path& path, const NiftiHeader& header) {
  if (!is_single_file_nifti(path)) return;
  const bool f32 = header.datatype == 16, f64 = header.datatype == 64;
  if (!f32 && !f64) return;
  std::uint64_t voxel_bytes = f32 ? 4 : 8;
  const int rank = std::clamp<int>(header.dim[0], 1, 7);
  for (int d = 1; d <= rank; ++d) voxel_bytes *= static_cast<std::uint64_t>(std::max<std::int16_t>(1, header.dim[d]));
  const float vox_offset = header.vox_offset >= 348.0f ? header.vox_offset : 352.0f;
  const bool swapped = header.swapped;
  gzFile file = gzopen(path.c_str(), "rb");
  if (!file) throw DataError("'" + path.string() + "': not readable");
  struct Closer {
    gzFile f;
    ~Closer() { gzclose(f); }
  } closer{file};
  const std::string corrupt = "'" + path.string() + "': file is truncated or corrupt";
  if (gzseek(file, static_cast<z_off_t>(vox_offset), SEEK_SET) < 0) throw DataError(corrupt);

  const std::size_t width = f32 ? 4 : 8;
  std::vector<unsigned char> chunk(std::size_t{1} << 22);
  std::uint64_t index = 0, remaining = voxel_bytes;
  while (remaining > 0) {
    const auto want = static_cast<unsigned>(std::min<std::uint64_t>(remaining, chunk.size()));
    if (gzread(file, chunk.data(), want) != static_cast<int>(want)) throw DataError(corrupt);
    for (std::size_t at = 0; at < want; at += width, ++index) {
      bool finite;
      if (f32) {
        std::uint32_t bits;
        std::memcpy(&bits, &chunk[at], 4);
        finite = ((swapped ? __builtin_bswap32(bits) : bits) & 0x7F800000u) != 0x7F800000u;
      } else {
        std::uint64_t bits;
        std::memcpy(&bits, &chunk[at], 8);
        finite = ((swapped ? __builtin_bswap64(bits) : bits) & 0x7FF0000000000000ull) != 0x7FF0000000000000ull;
      }
      if (!finite)
        throw DataError("'" + path.string() + "': voxel " + std::to_string(index) +
                        " is NaN or infinite (expected finite intensities)");
    }
    remaining -= want;
  }
}


}  // namespace fedglioma::data
