#pragma once

#include <cstddef>
#include <filesystem>
#include <string>

namespace fedglioma {

/// The longest name check_file_name accepts, in bytes: file systems allow 255, and fedglioma
/// builds file names from it with a prefix and suffixes (model-<site>.pt, its temporary copy).
inline constexpr std::size_t kMaxFileNameBytes = 200;

/// Refuses a name taken from data (a case id, a site name) that is to become one file or folder
/// name: empty, "." or "..", a path separator, a control character or NUL could name a file
/// outside the folder it is meant for, and a name over kMaxFileNameBytes could not be written. Throws DataError "`where`: `field` "<name>" <why>" (control
/// characters shown as '?').
void check_file_name(const std::string& name, const std::string& field, const std::string& where);

/// `parent` / `name` after check_file_name: a path that stays inside `parent`.
std::filesystem::path child_path(const std::filesystem::path& parent, const std::string& name, const std::string& field,
                                 const std::string& where);

}  // namespace fedglioma
