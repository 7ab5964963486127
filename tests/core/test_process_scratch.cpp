#include <catch2/catch.hpp>

#include <stdexcept>

#include <sys/wait.h>
#include <unistd.h>

#include "core/atomic_file.h"
#include "core/process_scratch.h"
#include "tests/support/fixtures.h"

namespace fs = std::filesystem;

namespace {

// Sets TMPDIR for the scope, so that the folders made land in a test folder.
struct TmpDir {
  std::string before;
  bool had = false;
  explicit TmpDir(const fs::path& dir) {
    if (const char* v = std::getenv("TMPDIR")) had = true, before = v;
    ::setenv("TMPDIR", dir.c_str(), 1);
  }
  ~TmpDir() { had ? ::setenv("TMPDIR", before.c_str(), 1) : ::unsetenv("TMPDIR"); }
};

// The pid of a process that has ended.
pid_t dead_pid() {
  const pid_t child = ::fork();
  if (child == 0) ::_exit(0);
  int status = 0;
  ::waitpid(child, &status, 0);
  return child;
}

}  // namespace

TEST_CASE("a process's scratch folder is removed on every way out, and a killed process's by the next",
          "[core][scratch]") {
  const fs::path dir = fedglioma::testing::temp_dir("scratch");
  const TmpDir tmp(dir);
  fs::path made;
  try {
    const fedglioma::ProcessScratch scratch("fedglioma-rank", "1");
    made = scratch.path();
    REQUIRE(fs::is_directory(made));
    REQUIRE(made == dir / ("fedglioma-rank1-" + std::to_string(::getpid())));
    fedglioma::write_file_atomic(made / "client-0.state", "spilled");
    throw std::runtime_error("the run failed");
  } catch (const std::runtime_error&) {
  }
  REQUIRE_FALSE(fs::exists(made));

  // A SIGKILLed rank's folder (its pid gone) is removed; a live process's and another family's stay.
  const fs::path orphan = dir / ("fedglioma-rank2-" + std::to_string(dead_pid()));
  const fs::path alive = dir / ("fedglioma-rank3-" + std::to_string(::getppid()));
  const fs::path other = dir / ("someone-else-" + std::to_string(dead_pid()));
  for (const fs::path& p : {orphan, alive, other}) {
    fs::create_directories(p);
    fedglioma::write_file_atomic(p / "f", "x");
  }
  {
    const fedglioma::ProcessScratch scratch("fedglioma-rank", "1");
    REQUIRE(fs::is_directory(scratch.path()));
  }
  REQUIRE_FALSE(fs::exists(orphan));
  REQUIRE(fs::exists(alive));
  REQUIRE(fs::exists(other));
}
