#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

namespace fedglioma {

/// One tensor of a safetensors file: its name, dtype ("F32", "F64", "I64", ...: the format's
/// names), shape and raw little-endian bytes (row-major).
struct SafeTensor {
  std::string name;
  std::string dtype;
  std::vector<std::int64_t> shape;
  std::string bytes;
};

/// Writes `tensors` as a safetensors file (Hugging Face's format: an 8-byte little-endian header
/// length, a JSON header mapping each name to its dtype, shape and data_offsets, with
/// `__metadata__` holding `metadata`, padded with spaces to 8 bytes, then the tensors' bytes in
/// the given order), atomically. Throws std::invalid_argument for a tensor whose byte count does
/// not match its dtype and shape, or a name given twice; IoError when the file cannot be written.
void write_safetensors(const std::filesystem::path& path, const std::vector<SafeTensor>& tensors,
                       const std::map<std::string, std::string>& metadata);

/// Reads a safetensors file (tensors in the order of their data offsets). Throws DataError naming
/// the file for a short file, a header that is not the format's JSON (metadata values strings,
/// shapes arrays of sizes), offsets outside the data, overlapping or leaving bytes unowned, or a
/// byte count that does not match a tensor's dtype and shape.
std::vector<SafeTensor> read_safetensors(const std::filesystem::path& path,
                                         std::map<std::string, std::string>* metadata = nullptr);

/// Bytes per element of a safetensors dtype (F16 2, F32 4, I64 8, BOOL 1, ...); 0 when unknown.
std::size_t safetensors_element_size(const std::string& dtype);

}  // namespace fedglioma
