// The console's progress line (sim/record/progress.h) and the strategy line a run prints.
#include <catch2/catch.hpp>

#include <sstream>

#include "experiments/cli_run.h"
#include "sim/record/progress.h"
#include "tests/support/fixtures.h"

using fedglioma::sim::ProgressState;
using fedglioma::sim::progress_text;

TEST_CASE("the progress line's estimate counts what the round has taken and ends at the last round",
          "[sim][progress]") {
  // Round 3 of 5, two finished rounds of 10 s each, 4 s into this one: 3 rounds left less 4 s.
  REQUIRE(progress_text({3, 1, 5, 1, 3, 24.0, 4.0}) == "round 3/5: 1/3 clients trained, 24 s elapsed, eta 26 s");
  // Every client trained: the rounds after this one only, and it says what is going on.
  REQUIRE(progress_text({3, 1, 5, 3, 3, 28.0, 8.0}) ==
          "round 3/5: 3/3 clients trained, aggregating and evaluating, 28 s elapsed, eta 20 s");
  // The last round with every client trained: no estimate (it was "eta 14 s" as the run ended).
  REQUIRE(progress_text({3, 1, 3, 3, 3, 42.0, 14.0}) ==
          "round 3/3: 3/3 clients trained, aggregating and evaluating, 42 s elapsed");
  // A round slower than the mean: never a negative estimate.
  REQUIRE(progress_text({2, 1, 2, 0, 3, 40.0, 30.0}) == "round 2/2: 0/3 clients trained, 40 s elapsed, eta 0 s");
  // The first round of a process: no estimate yet.
  REQUIRE(progress_text({4, 4, 9, 1, 2, 3.0, 3.0}) == "round 4/9: 1/2 clients trained, 3 s elapsed");
}

TEST_CASE("the run's first lines name personalisation as such, and local mode as no aggregation", "[sim][progress]") {
  const auto dir = fedglioma::testing::temp_dir("strategy-line");
  for (const auto& [overrides, line] :
       std::vector<std::pair<std::vector<std::string>, std::string>>{
           {{"federation.strategy.name=fedper"}, ", fedper (each site also keeps a model of its own)\n"},
           {{"federation.strategy.name=ditto"}, ", ditto (each site also keeps a model of its own)\n"},
           {{"federation.mode=local"}, ", local mode: no aggregation\n"},
           {{}, ", fedavg\n"}}) {
    std::vector<std::string> set = overrides;
    set.push_back("federation.rounds=1");
    std::filesystem::create_directories(dir / line.substr(2, 5));
    auto options = fedglioma::testing::tiny_run_options(dir / line.substr(2, 5), set);
    std::ostringstream console;
    fedglioma::experiments::run_run(options, console);
    REQUIRE_THAT(console.str(), Catch::Contains(line));
    REQUIRE_THAT(console.str(), !Catch::Contains("fedper (local mode") && !Catch::Contains("ditto (local mode"));
  }
}
