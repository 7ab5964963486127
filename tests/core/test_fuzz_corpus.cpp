// Replays every committed fuzz input (tests/fuzz/corpus/<target>/, including the crashes that
// scripts/fuzz.sh found, named regression-*) through its target's body: each must be read or
// refused with a fedglioma::Error, never anything else.
#include <catch2/catch.hpp>

#include <filesystem>

#include "core/atomic_file.h"
#include "core/error.h"
#include "tests/support/fuzz_targets.h"

namespace fs = std::filesystem;

TEST_CASE("every committed fuzz input is read or refused with a message", "[core][fuzz]") {
  const fs::path root = fs::path(FEDGLIOMA_SOURCE_DIR) / "tests" / "fuzz" / "corpus";
  std::size_t inputs = 0;
  for (const auto& target : fedglioma::fuzz::targets()) {
    const fs::path dir = root / target.name;
    REQUIRE(fs::is_directory(dir));
    for (const auto& entry : fs::directory_iterator(dir)) {
      const std::string bytes = fedglioma::read_file(entry.path());
      INFO(entry.path().string());
      try {
        target.run(reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size());
      } catch (const fedglioma::Error&) {
      }
      ++inputs;
    }
  }
  REQUIRE(inputs >= 6);
}
