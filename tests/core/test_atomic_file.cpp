#include <catch2/catch.hpp>

#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "core/atomic_file.h"
#include "tests/support/fixtures.h"

namespace fs = std::filesystem;

TEST_CASE("writers racing on one path each replace it whole, and none fails", "[core][atomic_file]") {
  // Threads caching one entry (a manifest listing the same images under two ids) used to share a
  // temporary name: one renamed or removed the other's file ("cannot replace ...").
  const fs::path path = fedglioma::testing::temp_dir("atomic-race") / "entry.bin";
  std::atomic<int> failures{0};
  std::vector<std::thread> writers;
  for (int w = 0; w < 8; ++w) {
    writers.emplace_back([&, w] {
      const std::string contents(1 << 16, static_cast<char>('a' + w));
      for (int i = 0; i < 50; ++i) {
        try {
          fedglioma::write_file_atomic(path, contents);
        } catch (...) {
          ++failures;
        }
      }
    });
  }
  for (auto& t : writers) t.join();
  REQUIRE(failures == 0);
  const std::string final = fedglioma::read_file(path);
  REQUIRE(final.size() == (1u << 16));
  REQUIRE(final.find_first_not_of(final[0]) == std::string::npos);  // one writer's file, whole
  std::size_t files = 0;
  for (const auto& entry : fs::directory_iterator(path.parent_path())) files += entry.is_regular_file();
  REQUIRE(files == 1);  // no temporary left behind
}
