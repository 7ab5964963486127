#include "core/file_names.h"

#include "core/error.h"

namespace fedglioma {

void check_file_name(const std::string& name, const std::string& field, const std::string& where) {
  auto refuse = [&](const std::string& why) {
    std::string shown;
    for (const unsigned char c : name) shown += c < 0x20 || c == 0x7f ? '?' : static_cast<char>(c);
    throw DataError(where + ": " + field + " \"" + shown + "\" " + why +
                    " (ids and site names become file names: letters, digits and punctuation other than / and \\)");
  };
  if (name.empty()) refuse("is empty");
  if (name == "." || name == "..") refuse("is a relative folder name");
  if (name.size() > kMaxFileNameBytes)
    refuse("is " + std::to_string(name.size()) + " bytes long, more than " + std::to_string(kMaxFileNameBytes) +
           " (a file name holds at most 255 bytes, and fedglioma adds prefixes and suffixes such as model-*.pt)");
  for (const unsigned char c : name) {
    if (c == '/' || c == '\\') refuse("holds a path separator");
    if (c < 0x20 || c == 0x7f) refuse("holds a control character");
  }
}

std::filesystem::path child_path(const std::filesystem::path& parent, const std::string& name, const std::string& field,
                                 const std::string& where) {
  check_file_name(name, field, where);
  return parent / name;
}

}  // namespace fedglioma
