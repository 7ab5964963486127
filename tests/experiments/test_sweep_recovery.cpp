// A sweep that is killed, or whose points fail, loses nothing: its children end with it, a re-run
// never touches a folder another process still writes, and the table is written for the points
// that finished, the failed ones named.
#include <catch2/catch.hpp>

#include <fcntl.h>
#include <signal.h>
#include <sys/file.h>
#include <unistd.h>

#include <chrono>
#include <sstream>
#include <thread>

#include "core/atomic_file.h"
#include "core/error.h"
#include "core/owned_folder.h"
#include "experiments/cli_sweep.h"
#include "tests/support/fixtures.h"

namespace fs = std::filesystem;

namespace {

// A sweep file over the tiny config: `grid` (JSON) with `rounds` rounds per point.
fs::path write_sweep(const fs::path& dir, const std::string& grid, int rounds) {
  fedglioma::write_file_atomic(dir / "tiny.json", fedglioma::testing::tiny_config_json());
  fedglioma::write_file_atomic(dir / "sweep.json", R"({"base": "tiny.json", "set": ["federation.rounds=)" +
                                                       std::to_string(rounds) + R"("], "grid": )" + grid + "}");
  return dir / "sweep.json";
}

bool in_use(const fs::path& dir) {
  try {
    fedglioma::OwnedFolder::require_not_in_use(dir);
    return false;
  } catch (const fedglioma::ConfigError&) {
    return true;
  }
}

// Waits up to `seconds` for `done`; returns whether it came.
template <typename Done>
bool wait_for(double seconds, Done done) {
  const auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(static_cast<long>(seconds * 1000));
  while (!done()) {
    if (std::chrono::steady_clock::now() > until) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return true;
}

}  // namespace

TEST_CASE("a sequential sweep whose point fails writes the table of the others and names the point",
          "[experiments][sweep]") {
  const fs::path dir = fedglioma::testing::temp_dir("sweep-failing");
  fedglioma::experiments::SweepOptions options;
  options.sweep = write_sweep(dir, R"({"federation.min_clients": [5, 1]})", 1);
  options.out = dir / "out";
  std::ostringstream console;
  REQUIRE_THROWS_WITH(fedglioma::experiments::run_sweep(options, console),
                      Catch::Contains("1 of 2 point(s) failed") && Catch::Contains("min_clients-5: ") &&
                          Catch::Contains("federation.min_clients"));
  // The point after the failed one ran, and is in the table; the failed one is named in sweep.md.
  const std::string csv = fedglioma::read_file(options.out / "sweep.csv");
  REQUIRE_THAT(csv, Catch::Contains("\nmin_clients-1,1,") && !Catch::Contains("min_clients-5"));
  REQUIRE_THAT(fedglioma::read_file(options.out / "sweep.md"),
               Catch::Contains("Failed points") && Catch::Contains("- min_clients-5: "));
}

TEST_CASE("a sweep never touches a point folder that another process holds", "[experiments][sweep]") {
  const fs::path dir = fedglioma::testing::temp_dir("sweep-held");
  fedglioma::experiments::SweepOptions options;
  options.sweep = write_sweep(dir, R"({"runtime.seed": [1]})", 1);
  options.out = dir / "out";
  std::ostringstream console;
  fedglioma::experiments::run_sweep(options, console);
  // A run that an earlier sweep started is still writing its point (it holds the folder's lock).
  const fs::path point = options.out / "points" / "seed-1";
  fs::remove(point / "summary.json");
  const std::string rounds = fedglioma::read_file(point / "rounds.jsonl");
  const int fd = ::open((point / ".fedglioma-lock").c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  REQUIRE(fd >= 0);
  REQUIRE(::flock(fd, LOCK_EX | LOCK_NB) == 0);
  REQUIRE_THROWS_WITH(fedglioma::experiments::run_sweep(options, console),
                      Catch::Contains("sweep point seed-1: ") && Catch::Contains("is in use by another fedglioma process"));
  REQUIRE(fedglioma::read_file(point / "rounds.jsonl") == rounds);  // neither removed nor resumed
  REQUIRE(!fs::exists(point / "summary.json"));
  ::close(fd);
  fedglioma::experiments::run_sweep(options, console);  // once it is free, the point is finished
  REQUIRE(fs::exists(point / "summary.json"));
}

TEST_CASE("a killed sweep --jobs 2 stops its points, and a re-run finishes each point in order",
          "[experiments][sweep][slow]") {
  const fs::path dir = fedglioma::testing::temp_dir("sweep-killed");
  const fs::path sweep = write_sweep(dir, R"({"runtime.seed": [1, 2]})", 40);
  const fs::path out = dir / "out";
  const std::string command = std::string(FEDGLIOMA_BINARY) + " sweep '" + sweep.string() + "' --out '" + out.string() +
                              "' --jobs 2 >/dev/null 2>&1";
  std::string output;
  REQUIRE(fedglioma::testing::run_command("(" + command + " & echo $! > '" + (dir / "pid").string() + "')", &output) == 0);
  const std::vector<fs::path> points = {out / "points" / "seed-1", out / "points" / "seed-2"};
  // Both points are running (each holds its folder and has written a round) ...
  REQUIRE(wait_for(120, [&] {
    for (const fs::path& p : points)
      if (!in_use(p) || fedglioma::testing::read_rounds(p).empty()) return false;
    return true;
  }));
  const pid_t sweep_pid = std::stoi(fedglioma::read_file(dir / "pid"));
  REQUIRE(::kill(sweep_pid, SIGKILL) == 0);
  // ... and end with the sweep, long before their 40 rounds would.
  REQUIRE(wait_for(10, [&] { return !in_use(points[0]) && !in_use(points[1]); }));
  REQUIRE(fedglioma::testing::read_rounds(points[0]).size() < 40);

  REQUIRE(fedglioma::testing::run_command(command, &output) == 0);
  for (const fs::path& p : points) {
    const auto rounds = fedglioma::testing::read_rounds(p);
    REQUIRE(rounds.size() == 40);
    for (std::size_t r = 0; r < rounds.size(); ++r) REQUIRE(rounds[r]["round"] == r + 1);
  }
}
