#pragma once

#include <filesystem>

#include "data/volume.h"

namespace fedglioma::data {

/// Reads a 3D NIfTI image (.nii or .nii.gz) as float with its geometry; with `channel` >= 0, that
/// volume of a 4-D image (x, y, z, channels: the Decathlon's layout). Throws DataError naming the
/// file for a missing/unreadable file, a 4-D image read as 3-D (or the reverse), a channel past
/// the last, or non-finite voxels.
FloatVolume read_image(const std::filesystem::path& path, int channel = -1);

/// The grid of a 3D NIfTI image (or of a 4-D one's volumes, with `channel` >= 0) from its header
/// alone (nothing past it is decompressed), as read_image would give it. Throws DataError naming
/// the file as read_image does for the header.
Geometry read_geometry(const std::filesystem::path& path, int channel = -1);

/// How many volumes a NIfTI image holds: 1 for a 3-D image, the fourth extent for a 4-D one.
int read_volume_count(const std::filesystem::path& path);

/// Reads a 3D NIfTI label image. Values must be whole numbers in [0, 255] (within 1e-4, for
/// files stored with scl_slope/scl_inter scaling); throws DataError naming the file otherwise.
MaskVolume read_labels(const std::filesystem::path& path);

/// Writes a float image / an 8-bit label image with its geometry, atomically (temporary file +
/// rename). Compression follows the extension (.nii.gz compresses). Throws IoError.
void write_image(const std::filesystem::path& path, const FloatVolume& volume);
void write_labels(const std::filesystem::path& path, const MaskVolume& volume);

/// How resample() interpolates.
enum class Interpolation { kLinear, kNearest };

/// Resamples `source` onto the grid `target` in world coordinates (identity transform) through
/// ITK; outside `source`'s field of view is 0. Lives beside the NIfTI IO because both convert
/// between Volume and ITK images, which only this file does.
FloatVolume resample(const FloatVolume& source, const Geometry& target, Interpolation interpolation);

}  // namespace fedglioma::data
