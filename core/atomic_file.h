#pragma once

#include <filesystem>
#include <string>

namespace fedglioma {

/// Writes `contents` to `path` atomically: a temporary file in the same folder is written,
/// flushed and renamed over `path`, so readers never see a half-written file. Throws IoError.
void write_file_atomic(const std::filesystem::path& path, const std::string& contents);

/// Appends one line (a newline is added) to `path`, flushed before returning, so a crash leaves
/// whole lines only. Throws IoError.
void append_line(const std::filesystem::path& path, const std::string& line);

/// Reads a whole file into a string. Throws IoError naming the file.
std::string read_file(const std::filesystem::path& path);

}  // namespace fedglioma
