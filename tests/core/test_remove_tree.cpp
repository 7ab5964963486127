#include <catch2/catch.hpp>

#include <filesystem>
#include <system_error>

#include "core/atomic_file.h"
#include "core/remove_tree.h"
#include "tests/support/fixtures.h"

namespace fs = std::filesystem;
using fedglioma::remove_tree;

TEST_CASE("remove_tree removes a nested folder and never follows a link out of it", "[core][remove_tree]") {
  const fs::path root = fedglioma::testing::temp_dir("remove-tree");
  const fs::path outside = root / "outside";
  fs::create_directories(outside);
  fedglioma::write_file_atomic(outside / "keep.txt", "kept");
  const fs::path doomed = root / "doomed";
  fs::create_directories(doomed / "a" / "b");
  fedglioma::write_file_atomic(doomed / "a" / "b" / "x.bin", "x");
  fedglioma::write_file_atomic(doomed / "top.txt", "t");
  fs::create_directory_symlink(outside, doomed / "a" / "link");

  remove_tree(doomed);
  CHECK_FALSE(fs::exists(doomed));
  CHECK(fs::exists(outside / "keep.txt"));

  std::error_code ec;
  CHECK(remove_tree(doomed, ec));  // already gone: not an error
  CHECK_FALSE(ec);
  remove_tree(root / "never-there");
}

TEST_CASE("remove_tree reports a path it cannot reach, naming it", "[core][remove_tree]") {
  const fs::path root = fedglioma::testing::temp_dir("remove-tree-bad");
  fedglioma::write_file_atomic(root / "file", "f");
  const fs::path below_a_file = root / "file" / "sub";
  std::error_code ec;
  CHECK_FALSE(remove_tree(below_a_file, ec));
  CHECK(ec == std::errc::not_a_directory);
  CHECK_THROWS_WITH(remove_tree(below_a_file), Catch::Contains(below_a_file.string()));
  CHECK(fs::exists(root / "file"));
}
