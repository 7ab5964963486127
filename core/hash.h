#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>

namespace fedglioma {

/// Stable 64-bit hashes (std::hash may differ between builds and libraries). They detect change,
/// truncation and corruption, not tampering.

/// FNV-1a over bytes: short keys (cache keys, config texts).
std::uint64_t fnv1a(std::string_view bytes);

/// FNV-1a over 8-byte words (then the tail bytes): the checksum of state bundles.
std::uint64_t fnv1a_words(const char* data, std::size_t size);

/// Four independent multiply-xor lanes over 64-bit words: bulk data at memory speed (zlib's
/// CRC-32 ran at 0.4 GB/s here and dominated reading the cache).
std::uint64_t content_hash(const void* data, std::size_t size);

/// content_hash of a whole file, read in 1 MiB blocks. Throws IoError naming the file.
std::uint64_t file_content_hash(const std::filesystem::path& path);

/// content_hash of three 64 KiB blocks of a file (its start, middle and end): files that differ
/// there differ, in microseconds; equal samples still need file_content_hash. Throws IoError.
std::uint64_t file_sample_hash(const std::filesystem::path& path);

/// `h` as 16 lower-case hex digits.
std::string hex64(std::uint64_t h);

}  // namespace fedglioma
