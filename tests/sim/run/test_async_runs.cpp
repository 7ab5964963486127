// Asynchronous federations end to end on the tiny cohort: FedBuff with K = concurrency = clients
// is FedAvg (plain and label-aware), the same metrics with 1 and 3 workers for FedBuff and
// FedAsync, SIGKILL + resume identical, the records of a server step, and bad settings refused.
#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include <filesystem>
#include <map>
#include <sstream>

#include "core/atomic_file.h"
#include "core/error.h"
#include "experiments/cli_run.h"
#include "experiments/config_json.h"
#include "tests/support/fixtures.h"

namespace fs = std::filesystem;
using fedglioma::testing::metrics_of;
using fedglioma::testing::read_rounds;
using fedglioma::testing::tiny_run;
using nlohmann::json;

namespace {

std::vector<std::string> with(std::vector<std::string> base, const std::vector<std::string>& more) {
  base.insert(base.end(), more.begin(), more.end());
  return base;
}

// Four iid clients with the FeTS profiles and jitter: uneven, overlapping participations.
const std::vector<std::string> kFourClients = {
    "partition.scheme=iid", "partition.num_clients=4", "federation.rounds=5", "eval.every=2",
    "federation.simulated_time.enabled=true", "federation.simulated_time.profile=fets2022",
    "federation.simulated_time.jitter=0.3"};

const std::vector<std::string> kFedBuff = {"federation.aggregation=fedbuff", "federation.concurrency=3",
                                           "federation.buffer_size=2"};
const std::vector<std::string> kFedAsync = {"federation.aggregation=fedasync", "federation.concurrency=2",
                                            "federation.mixing=0.5", "federation.staleness.function=hinge",
                                            "federation.staleness.hinge_b=1"};

// What a run promises to repeat: every line without its wall-clock times.
void require_same_rounds(const fs::path& a, const fs::path& b) {
  const auto ra = read_rounds(a), rb = read_rounds(b);
  REQUIRE(ra.size() == rb.size());
  for (std::size_t r = 0; r < ra.size(); ++r) REQUIRE(metrics_of(ra[r]).dump() == metrics_of(rb[r]).dump());
}

}  // namespace

TEST_CASE("FedBuff with K = concurrency = clients, constant staleness and eta_g 1 is FedAvg, plain and label-aware",
          "[sim][async][slow]") {
  for (const std::string label_aware : {"false", "true"}) {
    INFO("label_aware " << label_aware);
    const std::vector<std::string> base = {"federation.rounds=3", "federation.simulated_time.enabled=true",
                                           "federation.strategy.label_aware=" + label_aware};
    const auto sync = read_rounds(tiny_run("fedbuff-as-fedavg-sync-" + label_aware, base));
    const auto buffered = read_rounds(tiny_run(
        "fedbuff-as-fedavg-" + label_aware,
        with(base, {"federation.aggregation=fedbuff", "federation.buffer_size=2", "federation.staleness.function=constant"})));
    REQUIRE(buffered.size() == sync.size());
    for (std::size_t r = 0; r < sync.size(); ++r) {
      REQUIRE(buffered[r]["eval"].dump() == sync[r]["eval"].dump());
      // Each step applies both clients' fresh updates, in arrival order, at the round's clock.
      std::map<std::string, json> losses;
      for (const json& c : buffered[r]["clients"]) {
        REQUIRE(c["staleness"] == 0);
        REQUIRE(c["base_version"] == static_cast<int>(r));
        losses[c["id"]] = c["train_loss"];
      }
      for (const json& c : sync[r]["clients"]) REQUIRE(losses.at(c["id"]) == c["train_loss"]);
      REQUIRE(buffered[r]["clock_seconds"] == sync[r]["clock_seconds"]);
    }
  }
}

TEST_CASE("FedBuff and FedAsync give the same rounds.jsonl with 1 and 3 workers", "[sim][async][slow]") {
  for (const auto& variant : {kFedBuff, kFedAsync}) {
    INFO(variant.front());
    const auto one = tiny_run("async-workers-1", with(with(kFourClients, variant), {"runtime.workers=1"}));
    const auto three = tiny_run("async-workers-3", with(with(kFourClients, variant), {"runtime.workers=3"}));
    require_same_rounds(one, three);
    const auto rounds = read_rounds(one);
    REQUIRE(rounds.size() == 5);
    // The records of a server step: the clock, and each arrival's base version, staleness, weight and time.
    bool stale = false;
    double clock = 0.0;
    for (const json& r : rounds) {
      REQUIRE(r["clock_seconds"].get<double>() >= clock);
      clock = r["clock_seconds"].get<double>();
      for (const json& c : r["clients"]) {
        REQUIRE(c["arrival_seconds"].get<double>() <= clock);
        REQUIRE(c["base_version"].get<int>() + c["staleness"].get<int>() == r["round"].get<int>() - 1);
        stale = stale || c["staleness"].get<int>() > 0;
      }
    }
    REQUIRE(stale);  // the schedule is truly asynchronous
    REQUIRE(rounds[1].contains("eval"));
    REQUIRE_FALSE(rounds[2].contains("eval"));
    REQUIRE(rounds[4].contains("eval"));  // the last step is always evaluated
  }
}

TEST_CASE("an asynchronous run killed at any point resumes to the uninterrupted run's rounds.jsonl",
          "[sim][async][slow]") {
  for (const auto& variant : {kFedBuff, kFedAsync}) {
    INFO(variant.front());
    const auto overrides = with(with(kFourClients, variant), {"runtime.checkpoint_every=2"});
    const fs::path reference = tiny_run("async-reference", overrides);
    for (int kill_after : {1, 3}) {  // mid-buffer, between two checkpoints
      INFO("killed after line " << kill_after);
      const auto killed = fedglioma::testing::run_and_kill(fedglioma::testing::temp_dir("async-killed"), overrides, kill_after);
      fedglioma::experiments::RunOptions resume;
      resume.resume = killed.out;
      std::ostringstream console;
      fedglioma::experiments::run_run(resume, console);
      require_same_rounds(reference, killed.out);
      REQUIRE(fedglioma::read_file(reference / "model.pt") == fedglioma::read_file(killed.out / "model.pt"));
    }
  }
}

TEST_CASE("a simulated-time budget ends an asynchronous run early, its last step evaluated and reported",
          "[sim][async][slow]") {
  const auto all = read_rounds(tiny_run("async-unbudgeted", with(kFourClients, kFedBuff)));
  const double third = all[2]["clock_seconds"].get<double>();
  const auto budget = "federation.simulated_time.budget_s=" + std::to_string(third + 1e-3);
  const fs::path run = tiny_run("async-budget", with(with(kFourClients, kFedBuff), {budget}));
  const auto rounds = read_rounds(run);
  REQUIRE(rounds.size() == 3);
  REQUIRE(rounds[2].contains("eval"));
  const json summary = json::parse(fedglioma::read_file(run / "summary.json"));
  REQUIRE(summary["final"]["round"] == 3);
}

TEST_CASE("asynchronous settings are refused naming the key", "[sim][async][config]") {
  const auto dir = fedglioma::testing::temp_dir("async-config");
  fedglioma::write_file_atomic(dir / "tiny.json", fedglioma::testing::tiny_config_json());
  const std::vector<std::string> clock = {"federation.simulated_time.enabled=true"};
  auto load = [&](std::vector<std::string> set) { return fedglioma::experiments::load_config(dir / "tiny.json", set); };
  REQUIRE_THROWS_WITH(load(with(clock, {"federation.aggregation=fedbuff"})),
                      Catch::Contains("federation.buffer_size: FedBuff needs K >= 1"));
  REQUIRE_THROWS_WITH(load({"federation.aggregation=fedbuff", "federation.buffer_size=2"}),
                      Catch::Contains("orders updates on the virtual clock: set federation.simulated_time.enabled"));
  REQUIRE_THROWS_WITH(load(with(clock, {"federation.aggregation=fedbuff", "federation.buffer_size=2",
                                        "federation.strategy.name=scaffold"})),
                      Catch::Contains("does not compose with federation.strategy \"scaffold\": SCAFFOLD's control "
                                      "variates under staleness are an open research question"));
  REQUIRE_THROWS_WITH(load(with(clock, {"federation.aggregation=fedasync", "federation.strategy.name=fedadam"})),
                      Catch::Contains("no mean for a server optimizer"));
  REQUIRE_THROWS_WITH(load(with(clock, {"federation.aggregation=fedbuff", "federation.buffer_size=2",
                                        "federation.deadline_s=100"})),
                      Catch::Contains("federation.deadline_s = 100"));
  REQUIRE_THROWS_WITH(load(with(clock, {"federation.aggregation=fedbuff", "federation.buffer_size=2",
                                        "federation.strategy.name=fedadam", "federation.server_lr=0.5"})),
                      Catch::Contains("federation.server_lr: fedadam steps with its own server optimizer"));
  REQUIRE_THROWS_WITH(load({"federation.concurrency=2"}), Catch::Contains("federation.concurrency: only the asynchronous"));
  REQUIRE_THROWS_WITH(load(with(clock, {"federation.simulated_time.budget_s=-5"})),
                      Catch::Contains("federation.simulated_time.budget_s: -5 is out of range"));
  REQUIRE_THROWS_WITH(load(with(clock, {"federation.aggregation=fedbuff", "federation.buffer_size=2",
                                        "federation.staleness.function=linear"})),
                      Catch::Contains("federation.staleness.function: 'linear' is not one of"));
  // Against the partition (two clients): more slots or a larger buffer than clients.
  REQUIRE_THROWS_WITH(tiny_run("async-too-many", with(clock, {"federation.aggregation=fedbuff", "federation.buffer_size=3"})),
                      Catch::Contains("federation.buffer_size = 3 exceeds the 2 client(s)"));
  REQUIRE_THROWS_WITH(tiny_run("async-too-busy", with(clock, {"federation.aggregation=fedasync", "federation.concurrency=3"})),
                      Catch::Contains("federation.concurrency = 3 exceeds the 2 client(s)"));
  REQUIRE(load(with(clock, {"federation.aggregation=fedasync"})).config.federation.aggregation == "fedasync");
}
