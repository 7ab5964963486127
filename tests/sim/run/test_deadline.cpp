// The virtual clock (sim/run/simulated_time.h) and what it decides in a synchronous round:
// federation.deadline_s cancels the updates that would arrive late, federation.over_select
// keeps the first arrivals.
#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include "core/atomic_file.h"
#include "core/error.h"
#include "experiments/config_json.h"
#include "sim/run/simulated_time.h"
#include "tests/support/fixtures.h"

using fedglioma::sim::SiteClock;
using nlohmann::json;

namespace {

fedglioma::sim::SimulatedTimeConfig clock_config() {
  fedglioma::sim::SimulatedTimeConfig c;
  c.enabled = true;
  c.samples_per_second = 2.0;
  c.megabits_per_second = 4.0;
  c.site_samples_per_second = {{"b", 0.5}};
  return c;
}

// A run on the tiny cohort (site-a, site-b) with site-b 100 times slower than site-a.
std::vector<std::string> slow_site_b(std::vector<std::string> more) {
  std::vector<std::string> set = {"federation.rounds=2", "federation.simulated_time.enabled=true",
                                  R"(federation.simulated_time.site_samples_per_second={"site-a": 10, "site-b": 0.1})"};
  set.insert(set.end(), more.begin(), more.end());
  return set;
}

}  // namespace

TEST_CASE("the clock's participation time is download, training and upload, each drawn per participation",
          "[sim][clock]") {
  // Client a: 8 samples x 2 epochs at 2 samples/s; b at 0.5; a 1-megabit model at 4 Mb/s each way.
  const SiteClock plain(clock_config(), {"a", "b"}, {8, 8}, 2, 1.0, 7);
  REQUIRE(plain.participation(0, 1).compute == 8.0);
  REQUIRE(plain.participation(0, 1).download == 0.25);
  REQUIRE(plain.participation(0, 1).total() == 8.5);
  REQUIRE(plain.participation(1, 3).total() == 32.5);  // the same every round without jitter
  // Jitter: one factor in [0.5, 1.5] for all three times, per (round, client), the same every time asked.
  auto jittered = clock_config();
  jittered.jitter = 0.5;
  const SiteClock jitter(jittered, {"a", "b"}, {8, 8}, 2, 1.0, 7);
  const double t1 = jitter.participation(0, 1).total(), t2 = jitter.participation(0, 2).total();
  REQUIRE(t1 >= 8.5 * 0.5);
  REQUIRE(t1 <= 8.5 * 1.5);
  REQUIRE(t1 != t2);
  REQUIRE(SiteClock(jittered, {"a", "b"}, {8, 8}, 2, 1.0, 7).participation(0, 1).total() == t1);
  // FeTS profiles: each time max(1, N(mean, sd)) s; training scales with samples x epochs.
  auto fets = clock_config();
  fets.profile = "fets2022";
  const SiteClock measured(fets, {"a", "b"}, {8, 8}, 2, 1.0, 7);
  for (int round = 1; round <= 5; ++round) {
    const auto p = measured.participation(1, round);
    REQUIRE(p.compute >= 16.0);
    REQUIRE(p.download >= 1.0);
    REQUIRE(p.upload >= 1.0);
    REQUIRE(p.compute <= 16.0 * 60.0);  // no FeTS site is slower than 20.66 +- 6.1 s per patient by far
  }
}

TEST_CASE("a deadline cancels exactly the updates that would arrive after it", "[sim][clock][deadline]") {
  const auto rounds = fedglioma::testing::read_rounds(
      fedglioma::testing::tiny_run("deadline", slow_site_b({"federation.deadline_s=20"})));
  REQUIRE(rounds.size() == 2);
  for (const json& r : rounds) {
    const json& a = r["clients"][0];
    const json& b = r["clients"][1];
    REQUIRE(a["id"] == "site-a");
    REQUIRE(a["status"] == "ok");
    REQUIRE(a["simulated_seconds"].get<double>() < 20.0);
    // site-b: its training cases at 0.1 per second take far longer than 20 s.
    REQUIRE(b["simulated_seconds"].get<double>() > 20.0);
    REQUIRE_THAT(b["status"].get<std::string>(), Catch::StartsWith("late: its update would arrive at"));
    REQUIRE(b["train_loss"].is_null());
    REQUIRE(r["simulated_seconds"].get<double>() == 20.0);  // the server waited until the deadline
    REQUIRE_FALSE(r.contains("skipped"));                    // one update is enough (min_clients 1)
  }
  // A deadline both clients meet changes nothing: the round lasts as long as its slowest client.
  const auto roomy = fedglioma::testing::read_rounds(
      fedglioma::testing::tiny_run("deadline-roomy", slow_site_b({"federation.deadline_s=100000"})));
  const auto none = fedglioma::testing::read_rounds(fedglioma::testing::tiny_run("deadline-none", slow_site_b({})));
  for (std::size_t r = 0; r < none.size(); ++r) {
    REQUIRE(fedglioma::testing::metrics_of(roomy[r]).dump() == fedglioma::testing::metrics_of(none[r]).dump());
    REQUIRE(roomy[r]["simulated_seconds"] == none[r]["simulated_seconds"]);
  }
  // With min_clients 2 the late client leaves too few updates: the round is skipped.
  const auto strict = fedglioma::testing::read_rounds(fedglioma::testing::tiny_run(
      "deadline-strict", slow_site_b({"federation.deadline_s=20", "federation.min_clients=2"})));
  REQUIRE_THAT(strict[0]["skipped"].get<std::string>(), Catch::Contains("1 usable update(s)"));
}

TEST_CASE("over-selection keeps the first arrivals and marks the rest surplus, the same with any worker count",
          "[sim][clock][deadline]") {
  // Half the clients per round (one of two), one extra: both train... the faster one's update counts.
  const std::vector<std::string> set =
      slow_site_b({"federation.clients_per_round=0.5", "federation.over_select=1"});
  std::vector<std::string> one = set, two = set;
  one.push_back("runtime.workers=1");
  two.push_back("runtime.workers=2");
  const auto a = fedglioma::testing::read_rounds(fedglioma::testing::tiny_run("over-select-1", one));
  const auto b = fedglioma::testing::read_rounds(fedglioma::testing::tiny_run("over-select-2", two));
  for (std::size_t r = 0; r < a.size(); ++r) {
    REQUIRE(a[r]["clients"].size() == 2);
    REQUIRE(a[r]["clients"][0]["status"] == "ok");
    REQUIRE_THAT(a[r]["clients"][1]["status"].get<std::string>(), Catch::StartsWith("surplus: its update would arrive"));
    // The round closes at its accepted update's arrival.
    REQUIRE(a[r]["simulated_seconds"] == a[r]["clients"][0]["simulated_seconds"]);
    REQUIRE(fedglioma::testing::metrics_of(a[r]).dump() == fedglioma::testing::metrics_of(b[r]).dump());
  }
}

TEST_CASE("clock settings are refused naming the key", "[sim][clock][config]") {
  const auto dir = fedglioma::testing::temp_dir("clock-config");
  fedglioma::write_file_atomic(dir / "tiny.json", fedglioma::testing::tiny_config_json());
  auto load = [&](std::vector<std::string> set) { return fedglioma::experiments::load_config(dir / "tiny.json", set); };
  REQUIRE_THROWS_WITH(load({"federation.deadline_s=30"}),
                      Catch::Contains("federation.deadline_s: 30 needs the virtual clock: set "
                                      "federation.simulated_time.enabled to true"));
  REQUIRE_THROWS_WITH(load({"federation.over_select=0.5"}), Catch::Contains("federation.over_select: 0.5 needs"));
  REQUIRE_THROWS_WITH(load({"federation.simulated_time.enabled=true", "federation.deadline_s=-1"}),
                      Catch::Contains("federation.deadline_s: -1 is out of range"));
  REQUIRE_THROWS_WITH(load({"federation.simulated_time.profile=fets2021"}),
                      Catch::Contains("federation.simulated_time.profile: 'fets2021' is not one of fets2022, none"));
  REQUIRE_THROWS_WITH(load({"federation.simulated_time.jitter=1"}),
                      Catch::Contains("federation.simulated_time.jitter: 1 is out of range"));
  REQUIRE_THROWS_WITH(load({"federation.simulated_time.samples_per_second=0"}),
                      Catch::Contains("federation.simulated_time.samples_per_second: 0 is out of range"));
  REQUIRE(load({"federation.simulated_time.enabled=true", "federation.deadline_s=30"}).config.federation.deadline_s == 30);
}
