#include "core/remove_tree.h"

#include <ftw.h>

#include <cerrno>
#include <cstdio>
#include <string>

#include "core/error.h"

namespace fedglioma {

namespace {

thread_local int first_error = 0;

int remove_entry(const char* path, const struct stat*, int, struct FTW*) {
  if (std::remove(path) != 0 && errno != ENOENT && first_error == 0) first_error = errno;
  return 0;  // go on: remove what can be removed
}

}  // namespace

bool remove_tree(const std::filesystem::path& path, std::error_code& ec) noexcept {
  ec.clear();
  first_error = 0;
  // FTW_DEPTH: a folder's entries before the folder; FTW_PHYS: links are entries, not followed.
  if (nftw(path.c_str(), remove_entry, 16, FTW_DEPTH | FTW_PHYS) != 0 && errno != ENOENT && first_error == 0)
    first_error = errno;
  if (first_error != 0) ec.assign(first_error, std::generic_category());
  return first_error == 0;
}

void remove_tree(const std::filesystem::path& path) {
  std::error_code ec;
  if (!remove_tree(path, ec)) throw IoError("cannot remove '" + path.string() + "': " + ec.message());
}

}  // namespace fedglioma
