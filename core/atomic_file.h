#pragma once

#include <cstdint>
#include <filesystem>
#include <string>

namespace fedglioma {

/// Writes `contents` to `path` atomically: a temporary file in the same folder is written,
/// flushed and renamed over `path`, so readers never see a half-written file. Throws IoError.
void write_file_atomic(const std::filesystem::path& path, const std::string& contents);

/// Appends one line (a newline is added) to `path`, flushed before returning, so a crash leaves
/// whole lines only. Throws IoError.
void append_line(const std::filesystem::path& path, const std::string& line);

/// The most bytes fedglioma reads from a text input (a config, manifest, sweep file or label
/// table): the largest real ones are a few MiB.
inline constexpr std::uintmax_t kMaxTextInputBytes = 64ull << 20;

/// Reads a whole regular file into a string. Throws IoError naming the file when it is missing,
/// unreadable, not a regular file (a device, a pipe or a folder, which could be read forever), or
/// longer than `max_bytes`.
std::string read_file(const std::filesystem::path& path, std::uintmax_t max_bytes = UINTMAX_MAX);

}  // namespace fedglioma
