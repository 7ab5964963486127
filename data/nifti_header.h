#pragma once

#include <array>
#include <cstdint>
#include <filesystem>
#include <optional>

namespace fedglioma::data {

/// The fields of a NIfTI-1 header that fedglioma checks itself, read from the file's first 348
/// (decompressed) bytes before ITK sees the file: ITK's reader turns non-finite voxels into 0 and
/// aborts the process on a non-finite or singular geometry.
struct NiftiHeader {
  bool swapped = false;               ///< stored in the other byte order
  std::array<std::int16_t, 8> dim{};  ///< dim[0] = rank, dim[1..] = sizes
  std::array<float, 8> pixdim{};      ///< pixdim[1..3] = voxel spacing
  std::int16_t datatype = 0;          ///< 16 = float32, 64 = float64, ...
  float vox_offset = 352.0f;          ///< where the voxels start (single-file NIfTI)
  std::int16_t qform_code = 0, sform_code = 0;
  std::array<float, 3> quatern{};              ///< quatern_b, quatern_c, quatern_d
  std::array<float, 3> qoffset{};              ///< qoffset_x, qoffset_y, qoffset_z
  std::array<std::array<float, 4>, 3> srow{};  ///< srow_x, srow_y, srow_z
};

/// The header of a .nii, .nii.gz, .hdr or .hdr.gz file; nullopt for another extension or a file
/// that is not NIfTI-1 (ITK then reports it). Throws DataError naming the file when it cannot
/// be read or is shorter than a header.
std::optional<NiftiHeader> read_nifti_header(const std::filesystem::path& path);

/// Refuses a geometry ITK cannot take: a non-finite or zero voxel spacing (pixdim[1..3]); with
/// qform_code > 0 a non-finite quaternion or offset; with sform_code > 0 a non-finite or singular
/// affine (srow_x/y/z). The DataError names the file and the field.
void check_header_geometry(const NiftiHeader& header, const std::filesystem::path& path);

/// The most voxels fedglioma reads from one scan (2^28, about 645^3; a 512^3 scan has 2^27).
inline constexpr std::uint64_t kMaxScanVoxels = 1ull << 28;

/// Refuses, from the header alone and so before anything is decompressed, a voxel type that is
/// not a known scalar (niftilib would print its own error), a rank outside 1..7, a size below 1
/// on any axis, or more than kMaxScanVoxels voxels (a 1 MB .nii.gz can declare
/// 1024^3). The DataError names the file and the sizes.
void check_header_extent(const NiftiHeader& header, const std::filesystem::path& path);

/// Refuses a truncated file before ITK reads it (ITK fills missing voxels with zeros): an
/// uncompressed file must hold the header and `voxel_bytes`; a gzip file's trailer must account
/// for them (see the definition for the odds of a cut-off file passing). DataError names the file.
void check_complete(const std::filesystem::path& path, std::uint64_t voxel_bytes);

/// Refuses a float32/float64 file holding a NaN or infinite voxel (ITK turns them into 0), read
/// in its stored form; integer files pass. DataError names the file and the voxel.
void check_finite(const std::filesystem::path& path, const NiftiHeader& header);

}  // namespace fedglioma::data
