// Partitions, client sampling, dropout, min_clients, local mode, simulated time, resume.
#include <catch2/catch.hpp>

#include <csignal>
#include <functional>
#include <set>

#include "core/atomic_file.h"
#include "core/error.h"
#include "data/manifest.h"
#include "data/synth.h"
#include "sim/clients/partition.h"
#include "tests/support/fixtures.h"

namespace fs = std::filesystem;
using fedglioma::testing::metrics_of;
using fedglioma::testing::read_rounds;
using fedglioma::testing::tiny_run;
using nlohmann::json;
using namespace fedglioma::sim;

namespace {

// 40 training cases with metadata only (partitions never look at voxels): a third IDH-mutant.
std::vector<fedglioma::data::Sample> cohort_of_40() {
  std::vector<fedglioma::data::Sample> samples(40);
  for (std::size_t i = 0; i < samples.size(); ++i) {
    samples[i].id = "case-" + std::to_string(i);
    samples[i].site = i < 20 ? "a" : "b";
    samples[i].split = "train";
    samples[i].labels.idh = i % 3 == 0 ? 1 : 0;
  }
  return samples;
}

std::multiset<std::string> ids_of(const Partition& p) {
  std::multiset<std::string> ids;
  for (const Client& c : p.clients) {
    for (const auto* s : c.train) ids.insert(s->id);
    for (const auto* s : c.val) ids.insert(s->id);
  }
  return ids;
}

}  // namespace

TEST_CASE("iid dirichlet and quantity partitions cover every case once and follow the seed", "[sim][partition]") {
  const auto samples = cohort_of_40();
  for (const char* scheme : {"iid", "dirichlet", "quantity"}) {
    DYNAMIC_SECTION(scheme) {
      PartitionConfig config;
      config.scheme = scheme;
      config.num_clients = 4;
      config.alpha = 1.0;
      config.val_fraction = 0.25;
      const Partition p = make_partition(samples, config, "federated", 11);
      REQUIRE(p.clients.size() == 4);
      REQUIRE(p.clients[0].id == "client-0");
      const auto ids = ids_of(p);
      REQUIRE(ids.size() == 40);
      REQUIRE(std::set<std::string>(ids.begin(), ids.end()).size() == 40);
      for (const Client& c : p.clients) REQUIRE(c.train.size() >= 1);
      if (std::string(scheme) == "iid")
        for (const Client& c : p.clients) REQUIRE(c.train.size() + c.val.size() == 10);
      // The same seed gives the same clients; another seed other clients.
      const Partition again = make_partition(samples, config, "federated", 11);
      const Partition other = make_partition(samples, config, "federated", 12);
      REQUIRE(again.clients[1].train == p.clients[1].train);
      REQUIRE(other.clients[1].train != p.clients[1].train);
    }
  }
}

TEST_CASE("a small Dirichlet alpha skews each client's label mix", "[sim][partition]") {
  const auto samples = cohort_of_40();
  PartitionConfig config;
  config.scheme = "dirichlet";
  config.num_clients = 2;
  config.alpha = 0.05;
  config.val_fraction = 0.0;
  const Partition p = make_partition(samples, config, "federated", 5);
  // With alpha 0.05 almost all of a class lands on one client: the IDH-mutant shares differ widely.
  std::vector<double> share;
  for (const Client& c : p.clients) {
    double mutant = 0;
    for (const auto* s : c.train) mutant += s->labels.idh.value_or(0);
    share.push_back(mutant / static_cast<double>(c.train.size()));
  }
  REQUIRE(std::abs(share[0] - share[1]) > 0.3);
  config.num_clients = 30;  // 40 cases cannot give 30 clients two cases each... with val held out
  config.val_fraction = 0.2;
  REQUIRE_THROWS_AS(make_partition(samples, config, "federated", 5), fedglioma::ConfigError);
}

TEST_CASE("client sampling takes the configured share of clients per round, drawn from the seed",
          "[sim][federation]") {
  const auto rounds = read_rounds(tiny_run("sampling", {"partition.scheme=iid", "partition.num_clients=4",
                                                        "federation.clients_per_round=0.5", "federation.rounds=4",
                                                        "eval.every=4"}));
  std::set<std::string> selections;
  for (const json& r : rounds) {
    REQUIRE(r["clients"].size() == 2);
    selections.insert(r["clients"][0]["id"].get<std::string>() + " " + r["clients"][1]["id"].get<std::string>());
  }
  REQUIRE(selections.size() > 1);  // different clients in different rounds
}

TEST_CASE("dropped-out clients are logged and rounds below min_clients are skipped or stop the run",
          "[sim][federation]") {
  // 0.99 (1 is refused: nothing would ever train) drops both clients of both rounds under this seed.
  const auto rounds = read_rounds(tiny_run("dropout", {"federation.dropout=0.99"}));
  for (const json& r : rounds) {
    for (const json& c : r["clients"]) REQUIRE(c["status"] == "dropped out");
    REQUIRE(r["skipped"].get<std::string>().find("federation.min_clients") != std::string::npos);
  }
  const fs::path dir = fedglioma::testing::temp_dir("stop");
  std::ostringstream console;
  REQUIRE_THROWS_WITH(fedglioma::experiments::run_run(
                          fedglioma::testing::tiny_run_options(
                              dir, {"federation.dropout=0.99", "federation.below_min_clients=stop"}),
                          console),
                      Catch::Contains("round 1") && Catch::Contains("stopping"));
  REQUIRE(read_rounds(dir / "run").size() == 1);  // the failed round is logged
}

TEST_CASE("local mode trains each site alone and reports each model on the external set", "[sim][federation]") {
  const fs::path run = tiny_run("local", {"federation.mode=local", "federation.rounds=1"});
  const auto rounds = read_rounds(run);
  const json& eval = rounds[0]["eval"];
  REQUIRE(eval["personal"].size() == 2);
  for (const auto& [client, block] : eval["personal"].items()) REQUIRE(block["external"]["n"] == 4);
  REQUIRE(eval["val"]["n"] == 4);
  REQUIRE(fs::exists(run / "model-site-a.pt"));
  REQUIRE_FALSE(fs::exists(run / "model.pt"));
}

TEST_CASE("simulated time gives each client compute plus transfer time and the round its slowest",
          "[sim][federation]") {
  const auto rounds = read_rounds(tiny_run(
      "simtime", {"federation.rounds=1", "federation.simulated_time.enabled=true",
                  "federation.simulated_time.samples_per_second=2",
                  R"(federation.simulated_time.site_samples_per_second={"site-a": 0.5})"}));
  const json& clients = rounds[0]["clients"];
  const double a = clients[0]["simulated_seconds"], b = clients[1]["simulated_seconds"];
  REQUIRE(a > b);  // site-a computes four times slower on the same number of cases
  REQUIRE(a - b == Approx(4.0 / 0.5 - 4.0 / 2.0).epsilon(1e-9));
  REQUIRE(rounds[0]["simulated_seconds"].get<double>() == Approx(a));
  // A setting for a client that does not exist (a misspelt site) is refused, not ignored.
  REQUIRE_THROWS_WITH(tiny_run("simtime-typo", {"federation.simulated_time.enabled=true",
                                                R"(federation.simulated_time.site_megabits_per_second={"site_a": 5})"}),
                      Catch::Contains("\"site_a\" is not a client") && Catch::Contains("site-a, site-b"));
}

TEST_CASE("client state past runtime.client_state_ram_gb lives on disk, is checkpointed by link, and changes no result",
          "[sim][federation][client_state]") {
  const std::vector<std::string> base = {"partition.scheme=iid", "partition.num_clients=3",
                                         "federation.strategy.name=scaffold", "federation.rounds=2",
                                         "train.keep_optimizer_state=true"};
  auto with = [&](std::string extra) {
    auto o = base;
    o.push_back(std::move(extra));
    return o;
  };
  const fs::path in_ram = tiny_run("state-in-ram", with("runtime.client_state_ram_gb=4"));
  const fs::path on_disk = tiny_run("state-on-disk", with("runtime.client_state_ram_gb=0"));
  const auto a = read_rounds(in_ram), b = read_rounds(on_disk);
  REQUIRE(a.size() == 2);
  for (std::size_t r = 0; r < a.size(); ++r) REQUIRE(metrics_of(a[r]).dump() == metrics_of(b[r]).dump());
  // Each client's c_i and optimizer went to disk, and the last checkpoint links them; the round-1
  // snapshot and the live spill folder are gone.
  const fs::path snapshot = on_disk / "checkpoints" / "clients-r2";
  for (const char* file : {"0-scaffold.c.state", "2-scaffold.c.state", "0-optimizer.state", "2-optimizer.state"})
    REQUIRE(fs::exists(snapshot / file));
  REQUIRE_FALSE(fs::exists(on_disk / "checkpoints" / "clients-r1"));
  REQUIRE_FALSE(fs::exists(on_disk / "client_state"));
  REQUIRE(fs::directory_iterator(in_ram / "checkpoints" / "clients-r2")->path().filename() == "in_ram.state");

  // Local mode's models too.
  const fs::path local_ram = tiny_run("state-local-ram", {"federation.mode=local", "federation.rounds=1"});
  const fs::path local_disk =
      tiny_run("state-local-disk", {"federation.mode=local", "federation.rounds=1", "runtime.client_state_ram_gb=0"});
  REQUIRE(metrics_of(read_rounds(local_ram)[0]).dump() == metrics_of(read_rounds(local_disk)[0]).dump());
  REQUIRE(fs::exists(local_disk / "checkpoints" / "clients-r1" / "0-local.model.state"));
  REQUIRE(fedglioma::read_file(local_ram / "model-site-a.pt") == fedglioma::read_file(local_disk / "model-site-a.pt"));
}

TEST_CASE("a run killed with SIGKILL resumes from its checkpoint to the uninterrupted result",
          "[sim][resume]") {
  const std::vector<std::string> overrides = {"partition.scheme=iid", "partition.num_clients=3",
                                              "federation.strategy.name=fedadam", "federation.rounds=4",
                                              "federation.clients_per_round=0.7", "eval.every=2",
                                              "train.keep_optimizer_state=true", "model.grade_classes=3",
                                              "model.dropout=0.2", "model.task_uncertainty=true",
                                              "runtime.client_state_ram_gb=0"};  // resumed from disk
  const fs::path reference_run = tiny_run("resume-reference", overrides);
  const auto reference = read_rounds(reference_run);
  REQUIRE(reference.size() == 4);
  {
    // The logged task log variances are the final model's own (model.pt), read by name.
    const std::string bytes = fedglioma::read_file(reference_run / "model.pt");
    const auto dict = torch::pickle_load(std::vector<char>(bytes.begin(), bytes.end())).toGenericDict();
    const torch::Tensor s = dict.at("task_log_variance").toTensor();
    const json& logged = reference.back()["task_log_variance"];
    REQUIRE(s.numel() == 5);
    const char* tasks[] = {"mask", "idh", "codeletion_1p19q", "mgmt", "grade"};
    for (int t = 0; t < 5; ++t) REQUIRE(logged[tasks[t]].get<double>() == static_cast<double>(s[t].item<float>()));
  }

  // Start the run, wait for its second round's line, then kill it without warning.
  const auto options = fedglioma::testing::run_and_kill(fedglioma::testing::temp_dir("resume-killed"), overrides, 2);
  REQUIRE_FALSE(fs::exists(options.out / "summary.json"));  // it did not finish

  std::ostringstream console;
  fedglioma::experiments::RunOptions resume;
  resume.resume = options.out;
  fedglioma::experiments::run_run(resume, console);
  REQUIRE_THAT(console.str(), Catch::Contains("resuming after round"));
  const auto resumed = read_rounds(options.out);
  REQUIRE(resumed.size() == reference.size());
  for (std::size_t r = 0; r < reference.size(); ++r)
    REQUIRE(metrics_of(resumed[r]).dump() == metrics_of(reference[r]).dump());
  REQUIRE(fs::exists(options.out / "summary.json"));
  // summary.json is rebuilt from the parsed history of the first rounds: every field survives.
  const auto summary_of = [](const fs::path& run) {
    return json::parse(fedglioma::read_file(run / "summary.json"));
  };
  for (const char* which : {"final", "selected"}) {
    REQUIRE(summary_of(options.out)[which]["eval"] == summary_of(reference_run)[which]["eval"]);
    REQUIRE(summary_of(options.out)[which]["task_log_variance"] == summary_of(reference_run)[which]["task_log_variance"]);
  }
  REQUIRE(summary_of(reference_run)["final"]["eval"]["val"].contains("grade_3class"));
  // Its timing counts the killed process too (up to its last checkpoint), not only the last one.
  REQUIRE(summary_of(options.out)["processes"] == 2);
  REQUIRE(summary_of(options.out)["seconds_total"].get<double>() >
          summary_of(options.out)["seconds_last_process"].get<double>());
  REQUIRE(summary_of(reference_run)["processes"] == 1);

  // A finished run is left as it is (its timings included) and says so; a folder without a
  // checkpoint cannot be resumed.
  const std::string summary = fedglioma::read_file(options.out / "summary.json");
  std::ostringstream again;
  fedglioma::experiments::run_run(resume, again);
  REQUIRE_THAT(again.str(), Catch::Contains("is finished (it has summary.json): nothing to resume, nothing changed"));
  REQUIRE(fedglioma::read_file(options.out / "summary.json") == summary);
  REQUIRE(read_rounds(options.out).size() == 4);
  fedglioma::experiments::RunOptions nothing;
  nothing.resume = fedglioma::testing::temp_dir("resume-empty");
  REQUIRE_THROWS_WITH(fedglioma::experiments::run_run(nothing, console), Catch::Contains("cannot be resumed"));
}

TEST_CASE("128 virtual clients train on two workers in one round", "[sim][federation][slow]") {
  const fs::path manifest = fedglioma::testing::synthetic_cohort("cohort-128", 64, 5);
  const auto rounds = read_rounds(tiny_run(
      "clients-128", {"data.manifest=" + manifest.string(), "partition.scheme=iid", "partition.num_clients=128",
                      "partition.val_fraction=0", "federation.rounds=1", "runtime.workers=2"}));
  REQUIRE(rounds[0]["clients"].size() == 128);
  for (const json& c : rounds[0]["clients"]) {
    REQUIRE(c["status"] == "ok");
    REQUIRE(c["samples"] == 1);
  }
  REQUIRE(rounds[0]["clients"][127]["id"] == "client-127");
}

TEST_CASE("run prints no progress line when its output is not a terminal", "[sim][federation][cli]") {
  const fs::path dir = fedglioma::testing::temp_dir("quiet");
  const auto options = fedglioma::testing::tiny_run_options(dir, {});
  std::string output;
  REQUIRE(fedglioma::testing::run_command(std::string(FEDGLIOMA_BINARY) + " run '" + options.config.string() +
                                              "' --out '" + options.out.string() + "' --set federation.rounds=1",
                                          &output) == 0);
  REQUIRE_THAT(output, Catch::Contains("round") && !Catch::Contains("\r"));
}

TEST_CASE("a run with rounds logged but no checkpoint yet resumes from round 1 to the same results",
          "[sim][federation][resume]") {
  // runtime.checkpoint_every 0 (or a kill or a full disk before the first checkpoint) left a
  // folder that could be neither resumed (no checkpoint) nor restarted (it holds rounds.jsonl).
  const fs::path dir = fedglioma::testing::temp_dir("resume-no-checkpoint");
  std::ostringstream console;
  const auto options = fedglioma::testing::tiny_run_options(dir, {"runtime.checkpoint_every=0"});
  fedglioma::experiments::run_run(options, console);
  REQUIRE_FALSE(fs::exists(options.out / "checkpoints" / "latest.state"));
  const auto before = read_rounds(options.out);
  fedglioma::write_file_atomic(options.out / "rounds.jsonl", before.front().dump() + "\n");  // as if killed after round 1
  fs::remove(options.out / "summary.json");
  fedglioma::experiments::RunOptions resume;
  resume.resume = options.out;
  std::ostringstream resumed;
  fedglioma::experiments::run_run(resume, resumed);
  REQUIRE_THAT(resumed.str(), Catch::Contains("starting again from round 1"));
  const auto after = read_rounds(options.out);
  REQUIRE(after.size() == before.size());
  for (std::size_t r = 0; r < after.size(); ++r) REQUIRE(metrics_of(after[r]) == metrics_of(before[r]));
}

TEST_CASE("resume refuses a config or data changed since the checkpoint, naming what changed",
          "[sim][federation][resume]") {
  const fs::path manifest_path = fedglioma::testing::synthetic_cohort("resume-identity-cohort", 6, 7);
  const fs::path dir = fedglioma::testing::temp_dir("resume-identity");
  const auto options = fedglioma::testing::tiny_run_options(dir, {"data.manifest=" + manifest_path.string()});
  std::ostringstream console;
  fedglioma::experiments::run_run(options, console);
  fedglioma::experiments::RunOptions resume;
  resume.resume = options.out;
  fs::remove(options.out / "summary.json");          // as if killed before it was written
  fedglioma::experiments::run_run(resume, console);  // unchanged: resumes (after its last round)
  fs::remove(options.out / "summary.json");          // the refusals below are checked before anything is written

  const fs::path config_path = options.out / "config.resolved.json";
  const std::string original = fedglioma::read_file(config_path);
  auto edit = [&](const std::function<void(json&)>& change) {
    json config = json::parse(original);
    change(config);
    fedglioma::write_file_atomic(config_path, config.dump(2) + "\n");
  };
  edit([](json& c) { c["train"]["lr"] = 0.5; });
  REQUIRE_THROWS_WITH(fedglioma::experiments::run_run(resume, console),
                      Catch::Contains("train.lr: 0.003 -> 0.5") && Catch::Contains("cannot resume"));
  edit([](json& c) { c["federation"]["rounds"] = 1; });
  REQUIRE_THROWS_WITH(fedglioma::experiments::run_run(resume, console), Catch::Contains("federation.rounds: 2 -> 1"));
  edit([](json& c) { c["federation"]["strategy"]["name"] = "fedprox"; });
  REQUIRE_THROWS_WITH(fedglioma::experiments::run_run(resume, console), Catch::Contains("federation.strategy.name"));
  fedglioma::write_file_atomic(config_path, original);

  // A damaged line among those the checkpoint covers: named, one line, no trace.
  const std::string rounds_text = fedglioma::read_file(options.out / "rounds.jsonl");
  fedglioma::write_file_atomic(options.out / "rounds.jsonl", "{\"round\": 1, \"secon\n" + rounds_text.substr(rounds_text.find('\n') + 1));
  REQUIRE_THROWS_WITH(fedglioma::experiments::run_run(resume, console),
                      Catch::Contains("rounds.jsonl' line 1 is damaged"));
  fedglioma::write_file_atomic(options.out / "rounds.jsonl", rounds_text);

  // The same ids over other voxels (a regenerated or edited scan).
  const auto manifest = fedglioma::data::load_manifest(manifest_path);
  const auto& edited = manifest.cases[1];
  fs::copy_file(manifest.cases[0].images[0], edited.images[0], fs::copy_options::overwrite_existing);
  REQUIRE_THROWS_WITH(fedglioma::experiments::run_run(resume, console),
                      Catch::Contains("the data differ") && Catch::Contains("case " + edited.id));
  const auto rounds = read_rounds(options.out);
  REQUIRE(rounds.size() == 2);  // nothing was rewritten by the refused resumes
}
