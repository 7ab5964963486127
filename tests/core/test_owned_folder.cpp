#include <catch2/catch.hpp>

#include "core/atomic_file.h"
#include "core/error.h"
#include "core/owned_folder.h"
#include "tests/support/fixtures.h"

namespace fs = std::filesystem;
using fedglioma::OwnedFolder;

namespace {

const OwnedFolder::Kind kKind{"test", "--force", {"result.json", "model-*"}};

}  // namespace

TEST_CASE("an owned folder is created with its marker, or must be empty, marked, or forced without clashes",
          "[core][owned_folder]") {
  const fs::path base = fedglioma::testing::temp_dir("owned");
  {
    const auto fresh = OwnedFolder::claim(base / "new" / "deep", kKind, false);
    REQUIRE(fresh.created());
    REQUIRE(fs::exists(base / "new" / "deep" / ".fedglioma-test"));
  }
  // Marked by an earlier claim: accepted again.
  REQUIRE_FALSE(OwnedFolder::claim(base / "new" / "deep", kKind, false).created());
  // The user's folder: refused, untouched.
  fs::create_directories(base / "mine");
  fedglioma::write_file_atomic(base / "mine" / "notes.txt", "mine");
  REQUIRE_THROWS_WITH(OwnedFolder::claim(base / "mine", kKind, false),
                      Catch::Contains("mine") && Catch::Contains("--force") && Catch::Contains("not a fedglioma test"));
  REQUIRE_FALSE(fs::exists(base / "mine" / ".fedglioma-test"));
  // Forced: accepted while nothing would be overwritten; unmark() leaves it as it was.
  {
    auto forced = OwnedFolder::claim(base / "mine", kKind, true);
    REQUIRE(fs::exists(base / "mine" / ".fedglioma-test"));
    forced.unmark(kKind);
  }
  REQUIRE(fs::exists(base / "mine" / "notes.txt"));
  REQUIRE_FALSE(fs::exists(base / "mine" / ".fedglioma-test"));
  REQUIRE_FALSE(fs::exists(base / "mine" / ".fedglioma-lock"));
  fedglioma::write_file_atomic(base / "mine" / "model-site-a.pt", "weights");
  REQUIRE_THROWS_WITH(OwnedFolder::claim(base / "mine", kKind, true),
                      Catch::Contains("model-site-a.pt") && Catch::Contains("never overwrites"));
  // An empty folder needs no force.
  fs::create_directories(base / "empty");
  REQUIRE_FALSE(OwnedFolder::claim(base / "empty", kKind, false).created());
}

TEST_CASE("one process owns a folder: a second claim or reopen is refused while the first holds it",
          "[core][owned_folder]") {
  const fs::path dir = fedglioma::testing::temp_dir("owned-lock") / "run";
  {
    const auto first = OwnedFolder::claim(dir, kKind, false);
    REQUIRE_THROWS_WITH(OwnedFolder::claim(dir, kKind, false),
                        Catch::Contains("in use by another fedglioma process") && Catch::Contains("pid"));
    REQUIRE_THROWS_WITH(OwnedFolder::reopen(dir, kKind, {}), Catch::Contains("in use"));
  }
  REQUIRE_NOTHROW(OwnedFolder::reopen(dir, kKind, {}));  // released with its owner
  REQUIRE_THROWS_WITH(OwnedFolder::reopen(dir.parent_path() / "elsewhere", kKind, {"result.json"}),
                      Catch::Contains("not a fedglioma test folder") && Catch::Contains("result.json"));
}
