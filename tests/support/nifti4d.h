#pragma once

#include <filesystem>
#include <vector>

#include "data/volume.h"

namespace fedglioma::testing {

/// Writes `volumes` (one grid) as one uncompressed 4-D NIfTI-1 file (x, y, z, volume), float32,
/// with the grid as its sform: the Decathlon's layout, which fedglioma reads but never writes.
void write_nifti_4d(const std::filesystem::path& path, const std::vector<data::FloatVolume>& volumes);

}  // namespace fedglioma::testing
