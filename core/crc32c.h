#pragma once

#include <cstddef>
#include <cstdint>

namespace fedglioma {

/// CRC-32C (Castagnoli: polynomial 0x1EDC6F41, reflected 0x82F63B78, initial and final value
/// 0xFFFFFFFF), the checksum of TFRecord files (TensorBoard's event files). `crc` is the CRC of
/// the bytes before `data`, so a stream is summed piecewise: crc32c(b, crc32c(a)) is the CRC of
/// a followed by b.
std::uint32_t crc32c(const void* data, std::size_t n, std::uint32_t crc = 0);

/// TFRecord's masked CRC-32C of `data`: the CRC rotated right by 15 bits plus 0xa282ead8, so
/// that a CRC stored inside summed data does not sum to a fixed value (TensorFlow's
/// tensorflow/python/lib/io/python_io.py, "TFRecords Format Details").
std::uint32_t masked_crc32c(const void* data, std::size_t n);

}  // namespace fedglioma
