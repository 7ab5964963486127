#pragma once

#include <filesystem>
#include <system_error>

namespace fedglioma {

/// Removes `path` and everything under it, never following a symbolic link (a link is removed,
/// not what it points to). A missing `path` is not an error. Written on POSIX `nftw` rather than
/// `std::filesystem::remove_all`: the pip wheels' libtorch.so exports its own copy of
/// `remove_all`, which crashed when a call bound to it (see scripts/check_symbol_bindings.sh).
/// Returns false and sets `ec` to the first failure, leaving what could not be removed.
bool remove_tree(const std::filesystem::path& path, std::error_code& ec) noexcept;

/// As above; throws IoError naming the path and the reason on failure.
void remove_tree(const std::filesystem::path& path);

}  // namespace fedglioma
