// Personalisation (FedPer, FedRep, Ditto, eval.finetune_epochs) and the per-site evaluation that
// reports the sites' own models: unit checks of what each strategy keeps, and end to end on the
// tiny cohort (local mode equivalence, determinism, resume after SIGKILL).
#include <catch2/catch.hpp>

#include <torch/torch.h>

#include <cmath>

#include "core/atomic_file.h"
#include "core/random.h"
#include "data/csv_table.h"
#include "experiments/cli_run.h"
#include "models/model.h"
#include "models/model_factory.h"
#include "sim/state/client_state.h"
#include "sim/train/client_training.h"
#include "sim/eval/cross_site.h"
#include "sim/record/run_log.h"
#include "sim/state/model_state.h"
#include "sim/strategy/strategy.h"
#include "sim/strategy/strategy_registry.h"
#include "tests/support/fixtures.h"

namespace fs = std::filesystem;
using fedglioma::FlatParams;
using fedglioma::FlatRanges;
using fedglioma::testing::metrics_of;
using fedglioma::testing::read_rounds;
using fedglioma::testing::tiny_run;
using nlohmann::json;
using namespace fedglioma::sim;

namespace {

// A 6-value model: groups "encoder" [0, 2), "marker:idh" [2, 4), "marker:mgmt" [4, 5); value 5 is a buffer.
std::vector<FlatGroup> toy_groups() { return {{"encoder", {{0, 2}}}, {"marker:idh", {{2, 4}}}, {"marker:mgmt", {{4, 5}}}}; }

std::vector<std::pair<std::size_t, ClientUpdate>> toy_updates(float shift) {
  std::vector<std::pair<std::size_t, ClientUpdate>> updates;
  for (std::size_t k = 0; k < 3; ++k) {
    ClientUpdate u;
    for (int i = 0; i < 6; ++i) u.params.push_back(shift + static_cast<float>(k * 10 + i));
    u.samples = k + 1;
    u.weight = static_cast<double>(k + 1);
    updates.emplace_back(k, std::move(u));
  }
  return updates;
}

// The distance between two flat models, relative to the second's norm.
double relative_distance(const FlatParams& a, const FlatParams& b) {
  double d = 0, n = 0;
  for (std::size_t i = 0; i < a.size(); ++i) {
    d += (static_cast<double>(a[i]) - b[i]) * (static_cast<double>(a[i]) - b[i]);
    n += static_cast<double>(b[i]) * b[i];
  }
  return std::sqrt(d / n);
}

FlatParams model_file(const fs::path& path) {
  fedglioma::testing::seed_torch();
  auto model = fedglioma::models::make_model(fedglioma::testing::tiny_model());
  load_state_dict(*model, path.string());
  return flatten_state(*model);
}

// The tiny run's initial model (its seed is 3), as the run builds it.
std::shared_ptr<fedglioma::models::Model> initial_model() {
  torch::manual_seed(fedglioma::derive_seed(3, 0, 0, fedglioma::RngPurpose::kModelInit));
  return fedglioma::models::make_model(fedglioma::testing::tiny_model());
}

// Runs `overrides` in a child process, SIGKILLs it after round 2's line, resumes it in this
// process and requires the uninterrupted run's metrics.
void check_kill_and_resume(const std::string& name, const std::vector<std::string>& overrides) {
  const auto reference = read_rounds(tiny_run(name + "-reference", overrides));
  const auto options = fedglioma::testing::run_and_kill(fedglioma::testing::temp_dir(name + "-killed"), overrides, 2);
  REQUIRE_FALSE(fs::exists(options.out / "summary.json"));
  std::ostringstream console;
  fedglioma::experiments::RunOptions resume;
  resume.resume = options.out;
  fedglioma::experiments::run_run(resume, console);
  const auto resumed = read_rounds(options.out);
  REQUIRE(resumed.size() == reference.size());
  for (std::size_t r = 0; r < reference.size(); ++r) REQUIRE(metrics_of(resumed[r]).dump() == metrics_of(reference[r]).dump());
}

}  // namespace

TEST_CASE("fedper keeps each client's named groups bit for bit and averages the rest", "[sim][personal]") {
  ClientStateStore store(fedglioma::testing::temp_dir("fedper-state") / "spill", 1 << 20);
  StrategyContext context;
  context.num_clients = 3;
  context.client_state = &store;
  context.groups = toy_groups();
  StrategyConfig config = StrategyConfig::defaults("fedper");
  config.groups["local_groups"] = {"marker:idh", "marker:mgmt"};
  const auto strategy = make_strategy(config, context);
  const FlatParams start(6, 0.5f);
  const FlatParams global = aggregate_round(*strategy, start, toy_updates(0));
  for (const auto& [k, u] : toy_updates(0)) {
    const FlatParams own = strategy->model_of(k, global);
    for (std::size_t i = 2; i < 5; ++i) REQUIRE(own[i] == u.params[i]);  // its own head, bit for bit
    for (std::size_t i : {0u, 1u, 5u}) REQUIRE(own[i] == global[i]);      // the shared rest
    // The next round starts from the global body with its own head.
    REQUIRE(strategy->configure(k, global).start == own);
  }
  // A round in which only client 1 trains leaves the others' heads as they were.
  const FlatParams before = strategy->model_of(0, global);
  auto only = toy_updates(100);
  const FlatParams next = aggregate_round(*strategy, global, {std::move(only[1])});
  const FlatParams after = strategy->model_of(0, next);
  for (std::size_t i = 2; i < 5; ++i) REQUIRE(after[i] == before[i]);
  // A group the model does not have is refused, naming the key and the groups it has.
  config.groups["local_groups"] = {"marker:1p19q"};
  REQUIRE_THROWS_WITH(make_strategy(config, context),
                      Catch::Contains("federation.strategy.local_groups") && Catch::Contains("marker:idh"));
}

TEST_CASE("fedrep's head phase trains only the local groups and its body phase only the rest", "[sim][personal]") {
  const auto model = initial_model();
  const FlatParams initial = flatten_state(*model);
  std::vector<bool> in_head(initial.size(), false);
  for (const FlatGroup& g : flat_groups(*model))
    if (g.name.rfind("marker:", 0) == 0)
      for (const auto& [b, e] : g.ranges)
        for (std::size_t i = b; i < e; ++i) in_head[i] = true;
  const std::size_t parameters = parameter_count(*model);
  auto moved = [&](const FlatParams& trained) {
    std::pair<std::size_t, std::size_t> n{0, 0};  // head, body
    for (std::size_t i = 0; i < parameters; ++i)
      if (trained[i] != initial[i]) ++(in_head[i] ? n.first : n.second);
    return n;
  };
  const std::vector<std::string> base = {"federation.strategy.name=fedrep", "federation.rounds=1", "train.local_epochs=2"};
  auto with = [&](const std::string& extra) {
    auto o = base;
    o.push_back(extra);
    return o;
  };
  // body_epochs 0: both epochs train the heads alone; the body (and so the global body) stays.
  const fs::path heads = tiny_run("fedrep-heads", with("federation.strategy.body_epochs=0"));
  const auto [head_a, body_a] = moved(model_file(heads / "model-site-a.pt"));
  REQUIRE(head_a > 0);
  REQUIRE(body_a == 0);
  REQUIRE(moved(model_file(heads / "model.pt")).second == 0);
  // body_epochs 2: both train the body alone; every client keeps the initial heads.
  const fs::path bodies = tiny_run("fedrep-bodies", with("federation.strategy.body_epochs=2"));
  const auto [head_b, body_b] = moved(model_file(bodies / "model-site-b.pt"));
  REQUIRE(head_b == 0);
  REQUIRE(body_b > 0);
  // One head epoch, then one body epoch: the heads end where one head-only epoch leaves them (the
  // body epoch moves no head value, not even through Adam's momentum from the head epoch).
  const fs::path split = tiny_run("fedrep-split", with("federation.strategy.body_epochs=1"));
  const fs::path head_only = tiny_run("fedrep-head-only", {"federation.strategy.name=fedrep", "federation.rounds=1",
                                                            "train.local_epochs=1", "federation.strategy.body_epochs=0"});
  const FlatParams after_split = model_file(split / "model-site-a.pt");
  const FlatParams after_head = model_file(head_only / "model-site-a.pt");
  for (std::size_t i = 0; i < parameters; ++i)
    if (in_head[i]) REQUIRE(after_split[i] == after_head[i]);
  REQUIRE(moved(after_split).second > 0);
  // More body epochs than local epochs is refused, naming both.
  REQUIRE_THROWS_WITH(tiny_run("fedrep-too-many", with("federation.strategy.body_epochs=3")),
                      Catch::Contains("federation.strategy.body_epochs") && Catch::Contains("train.local_epochs"));
}

TEST_CASE("ditto with lambda 0 is local training and a large lambda keeps personal models near the global one",
          "[sim][personal]") {
  const std::vector<std::string> sgd = {"federation.rounds=2", "train.optimizer=sgd", "train.lr=0.01",
                                        "train.momentum=0"};
  auto with = [&](std::vector<std::string> extra) {
    auto o = sgd;
    o.insert(o.end(), extra.begin(), extra.end());
    return o;
  };
  const fs::path local = tiny_run("ditto-local", with({"federation.mode=local"}));
  const fs::path free = tiny_run("ditto-0", with({"federation.strategy.name=ditto", "federation.strategy.lambda=0"}));
  // The personal models and their evaluations are local mode's, bit for bit.
  for (const char* site : {"site-a", "site-b"})
    REQUIRE(model_file(free / ("model-" + std::string(site) + ".pt")) == model_file(local / ("model-" + std::string(site) + ".pt")));
  const json local_eval = read_rounds(local).back()["eval"], ditto_eval = read_rounds(free).back()["eval"];
  REQUIRE(ditto_eval["personal"].dump() == local_eval["personal"].dump());
  // lambda x lr = 1: each step pulls the personal model onto the round's global model (here, in
  // round 1, the initial one) before its gradient step, so it ends one step away from it, where
  // lambda 0 ends six local steps away. The global model does not depend on lambda.
  const std::vector<std::string> one_round = {"federation.rounds=1", "train.local_epochs=3",
                                              "federation.strategy.name=ditto"};
  auto ditto = [&](const std::string& lambda) {
    auto o = with(one_round);
    o.push_back("federation.strategy.lambda=" + lambda);
    return tiny_run("ditto-lambda-" + lambda, o);
  };
  const fs::path loose = ditto("0"), tied = ditto("100");
  REQUIRE(model_file(loose / "model.pt") == model_file(tied / "model.pt"));
  const FlatParams initial = flatten_state(*initial_model());
  for (const char* site : {"site-a", "site-b"}) {
    const std::string file = "model-" + std::string(site) + ".pt";
    REQUIRE(relative_distance(model_file(tied / file), initial) < 0.5 * relative_distance(model_file(loose / file), initial));
  }
}

TEST_CASE("personalised runs report the global model per site and each site's own model", "[sim][personal][eval]") {
  const auto rounds = read_rounds(tiny_run("fedper-eval", {"federation.strategy.name=fedper"}));
  const json& eval = rounds.back()["eval"];
  REQUIRE(eval["sites"].size() == 2);
  REQUIRE(eval["personal"].size() == 2);
  for (const auto& [client, own] : eval["personal"].items()) {
    REQUIRE(own["external"]["n"] == 4);
    REQUIRE(own["val"]["n"] == eval["sites"][client]["n"]);
  }
  REQUIRE(eval["fairness"]["sites"]["dice_mean"]["sites"] == 2);
  REQUIRE(eval["fairness"].contains("personal"));
}

TEST_CASE("fine-tuning evaluates each site's fine-tuned model and leaves the global model alone",
          "[sim][personal][eval]") {
  const auto plain = read_rounds(tiny_run("finetune-none", {}));
  const auto zero = read_rounds(tiny_run("finetune-0", {"eval.finetune_epochs=0"}));
  const auto tuned = read_rounds(tiny_run("finetune-1", {"eval.finetune_epochs=1"}));
  REQUIRE(plain.size() == 2);
  for (std::size_t r = 0; r < plain.size(); ++r) REQUIRE(metrics_of(zero[r]).dump() == metrics_of(plain[r]).dump());
  REQUIRE_FALSE(plain.back()["eval"].contains("personal"));
  // The global model's blocks are the plain run's; the sites' own models are new, and differ.
  for (const char* block : {"external", "val", "sites"})
    REQUIRE(tuned.back()["eval"][block].dump() == plain.back()["eval"][block].dump());
  const json& personal = tuned.back()["eval"]["personal"];
  REQUIRE(personal.size() == 2);
  REQUIRE(personal["site-a"]["external"].dump() != plain.back()["eval"]["external"].dump());
}

// Every new strategy is deterministic across worker counts (as every other, test_strategies.cpp)
// and resumes after SIGKILL to the uninterrupted run.
TEST_CASE("a diverged model is flagged per site and never scored", "[sim][personal][eval]") {
  // Ditto with SGD and lambda 1e6 (inside its range): the personal models' outputs are NaN by
  // round 3. NaN scores would have ranked as AUCs of 0 or 1; they are null, with the reason.
  const fs::path dir = fedglioma::testing::temp_dir("diverged");
  const auto options = fedglioma::testing::tiny_run_options(
      dir, {"federation.strategy.name=ditto", "federation.strategy.lambda=1e6", "train.optimizer=sgd", "federation.rounds=3"});
  std::ostringstream console;
  fedglioma::experiments::run_run(options, console);
  const json eval = read_rounds(options.out).back()["eval"];
  REQUIRE(eval["personal"].size() == 2);
  for (const auto& [site, own] : eval["personal"].items())
    for (const char* set : {"val", "external"}) {
      INFO(site << " " << set);
      REQUIRE(own[set]["status"] == "diverged");
      REQUIRE_THAT(own[set]["reason"].get<std::string>(), Catch::Contains("NaN or infinite"));
      REQUIRE(own[set]["dice_mean"].is_null());
      for (const auto& [marker, auc] : own[set]["auc"].items()) REQUIRE(auc.is_null());
      REQUIRE_THAT(console.str(), Catch::Contains("warning: round 3, " + site + "'s own model on the external set"));
    }
  REQUIRE_FALSE(eval["external"].contains("status"));  // the global model did not diverge
  REQUIRE(eval["external"]["auc"]["idh"].is_number());
  const auto metrics = fedglioma::data::CsvTable::read(options.out / "metrics.csv");
  std::size_t diverged_rows = 0;
  for (const auto& row : metrics.rows()) diverged_rows += row[metrics.column("status")] == "diverged";
  REQUIRE(diverged_rows == 4);  // the two sites' own models on their validation cases and the external set
  const auto cross = fedglioma::data::CsvTable::read(options.out / "cross_site.csv");
  for (const auto& row : cross.rows())
    REQUIRE(row[cross.column("status")] == (row[cross.column("model")] == "global" ? "ok" : "diverged"));
}

TEST_CASE("ditto resumes after SIGKILL to the uninterrupted run", "[sim][personal][resume]") {
  check_kill_and_resume("ditto", {"federation.strategy.name=ditto", "federation.rounds=4",
                                  "runtime.client_state_ram_gb=0"});
}

TEST_CASE("fedper resumes after SIGKILL to the uninterrupted run", "[sim][personal][resume]") {
  check_kill_and_resume("fedper", {"federation.strategy.name=fedper", "federation.rounds=4",
                                   "eval.finetune_epochs=1"});
}

TEST_CASE("the cross-site matrix has a cell per pair and its diagonal is each site's own validation", "[sim][personal][eval]") {
  const fs::path run = tiny_run("cross-site-local", {"federation.mode=local"});
  const std::string csv = fedglioma::read_file(run / "cross_site.csv");
  std::vector<std::vector<std::string>> rows;
  std::istringstream in(csv);
  for (std::string line; std::getline(in, line);) {
    std::vector<std::string> fields;
    std::istringstream cells(line);
    for (std::string f; std::getline(cells, f, ',');) fields.push_back(f);
    rows.push_back(fields);
  }
  REQUIRE(rows.size() == 1 + 2 * 3);  // local mode: no global row; each model on both sites and the external set
  REQUIRE(rows[0][0] == "model");
  REQUIRE(rows[0][3] == "dice_mean");
  const json personal = read_rounds(run).back()["eval"]["personal"];
  for (std::size_t r = 1; r < rows.size(); ++r) {
    if (rows[r][0] != rows[r][1]) continue;
    const json& own = personal[rows[r][0]]["val"];
    REQUIRE(std::stoul(rows[r][2]) == own["n"].get<std::size_t>());
    char dice[32];
    std::snprintf(dice, sizeof dice, "%.9g", own["dice_mean"].get<double>());
    REQUIRE(rows[r][3] == dice);
  }
  // A run of a global model only has none.
  REQUIRE_FALSE(fs::exists(tiny_run("cross-site-none", {}) / "cross_site.csv"));
}

TEST_CASE("the cross-site plan puts each client's model on every client's validation cases", "[sim][personal][eval]") {
  std::vector<fedglioma::data::Sample> samples(5);
  for (std::size_t i = 0; i < samples.size(); ++i) samples[i].id = "case-" + std::to_string(i);
  Partition partition;
  partition.clients = {{"a", {}, {&samples[0], &samples[1]}, {}}, {"b", {}, {&samples[2]}, {}}, {"c", {}, {&samples[3], &samples[4]}, {}}};
  const EvalPlan plan = cross_site_plan(partition);
  REQUIRE(plan.cases.size() == 3 * 5);
  // Model i, then the cases of client 0, 1, 2 in order.
  for (std::size_t i = 0; i < 3; ++i)
    for (std::size_t k = 0; k < 5; ++k) {
      REQUIRE(plan.models[i * 5 + k] == i);
      REQUIRE(plan.cases[i * 5 + k] == &samples[k]);
    }
  // A prediction's Dice encodes (model, case): each cell averages its own.
  std::vector<CasePrediction> predictions(plan.cases.size());
  for (std::size_t p = 0; p < predictions.size(); ++p) {
    predictions[p].sample = plan.cases[p];
    predictions[p].dice = static_cast<double>(plan.models[p]) * 10.0 + static_cast<double>(p % 5);
  }
  const auto cells = summarize_cross_site(partition, plan, predictions, 0);
  REQUIRE(cells.size() == 3 * 4);  // each model on the three sites and on the (empty) external set
  REQUIRE(cells[1].model == 0);
  REQUIRE(cells[1].data == 1);
  REQUIRE(*cells[1].summary.dice_mean == 2.0);   // model 0 on case 2
  REQUIRE(cells[3].data == fedglioma::sim::kExternalData);
  REQUIRE(*cells[6].summary.dice_mean == 13.5);  // model 1 on cases 3 and 4
  REQUIRE(cells[10].summary.n == 2);
  const std::string csv = cross_site_csv(partition, cells);
  REQUIRE(csv.find("\nb,c,2,13.5,") != std::string::npos);
  REQUIRE(csv.find("\na,external,0,") != std::string::npos);
  // With a global model (personalising strategies), its row comes first.
  const EvalPlan both = cross_site_plan(partition, true);
  REQUIRE(both.cases.size() == 4 * 5);
  REQUIRE(both.models[0] == fedglioma::sim::kGlobalModel);
  REQUIRE(both.models[5] == 0);
}
