#include "sim/run/evaluate_run.h"

#include <nlohmann/json.hpp>

#include <map>
#include <optional>
#include <set>

#include "core/atomic_file.h"
#include "core/error.h"
#include "core/random.h"
#include "data/sample_store.h"
#include "models/model.h"
#include "models/model_factory.h"
#include "sim/eval/eval_plan.h"
#include "sim/workers/executor.h"
#include "sim/state/model_identity.h"
#include "sim/state/model_state.h"
#include "data/patients.h"
#include "sim/run/checkpoint.h"
#include "sim/processes/processes.h"
#include "sim/run/run_cases.h"
#include "sim/record/eval_json.h"
#include "sim/record/run_log.h"

namespace fedglioma::sim {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

// The run's final models, read once: kGlobalModel from model.pt, client k from model-<id>.pt.
class RunModels {
 public:
  RunModels(const ExperimentConfig& config, const fs::path& run_dir, const Partition& partition, EvalModels covers) {
    auto model = models::make_model(config.model);
    auto read = [&](const fs::path& file) {
      if (!fs::exists(file)) throw ConfigError("'" + file.string() + "' does not exist: the run has not finished");
      load_state_dict(*model, file.string());
      return flatten_state(*model);
    };
    if (covers != EvalModels::kPersonal) global_ = read(run_dir / "model.pt");
    if (covers != EvalModels::kGlobal)
      for (const Client& c : partition.clients) own_.push_back(read(run_dir / ("model-" + c.id + ".pt")));
  }
  FlatParams operator()(std::size_t k) const { return k == kGlobalModel ? global_ : own_.at(k); }

 private:
  FlatParams global_;
  std::vector<FlatParams> own_;
};

// The run's clients (partitions.json): their ids, and every case id they trained on.
struct RunClients {
  std::vector<std::string> ids;
  std::set<std::string> trained;
};

RunClients run_clients(const fs::path& run_dir) {
  const fs::path file = run_dir / "partitions.json";
  RunClients out;
  try {
    const json partitions = json::parse(read_file(file));
    for (const json& c : partitions.at("clients")) {
      out.ids.push_back(c.at("id").get<std::string>());
      for (const json& id : c.at("train")) out.trained.insert(id.get<std::string>());
    }
  } catch (const json::exception& e) {
    throw IoError("'" + file.string() + "' is not a run's partitions.json: " + e.what());
  }
  return out;
}

// The model files evaluate reads: model.pt and/or each client's model-<id>.pt.
std::vector<fs::path> model_files(const fs::path& run_dir, const std::vector<std::string>& client_ids, EvalModels covers) {
  std::vector<fs::path> files;
  if (covers != EvalModels::kPersonal) files.push_back(run_dir / "model.pt");
  if (covers != EvalModels::kGlobal)
    for (const std::string& id : client_ids) files.push_back(run_dir / ("model-" + id + ".pt"));
  return files;
}

// Before any case is decoded: each model file exists and was written by this run (its config's
// fingerprint); a model of an older fedglioma records none and is taken as it is.
void require_run_models(const std::vector<fs::path>& files, const EvaluateRequest& request) {
  const std::string expected = model_identity(request.config_json, "the data are compared after loading");
  for (const fs::path& file : files) {
    if (!fs::exists(file)) throw ConfigError("'" + file.string() + "' does not exist: the run has not finished");
    const ModelRunMatch match = check_model_run(file.string(), expected);
    if (match.recorded && !match.same_config)
      throw ConfigError("'" + file.string() + "' is not this run's model: it records another config than '" +
                        (request.run_dir / "config.resolved.json").string() +
                        "' (copied from another run?); evaluate each run folder with its own models");
  }
}

// Whether the run's own cases differ from those its models were trained on.
bool data_changed(const std::vector<fs::path>& files, const EvaluateRequest& request,
                  const std::vector<data::Sample>& samples) {
  const std::string expected = model_identity(request.config_json, data_identity(samples));
  for (const fs::path& file : files) {
    const ModelRunMatch match = check_model_run(file.string(), expected);
    if (match.recorded && !match.same_data) return true;
  }
  return false;
}

// Run's leakage check between the cases the run trained on and another manifest's.
void require_no_leakage(const data::Manifest& run_manifest, const std::set<std::string>& trained,
                        const data::Manifest& other) {
  data::Manifest both;
  for (const data::Case& c : run_manifest.cases)
    if (trained.count(c.id)) {
      both.cases.push_back(c);
      both.cases.back().split = "train";
    }
  both.cases.insert(both.cases.end(), other.cases.begin(), other.cases.end());
  data::check_patient_leakage(both);
}

// Another manifest's cases (of `split`, when given) as the external set of the run's clients.
data::Manifest other_cases(const EvaluateRequest& request, const std::set<std::string>& trained) {
  data::Manifest chosen = *request.cases;
  chosen.cases.clear();
  for (const data::Case& c : request.cases->cases) {
    if (!request.split.empty() && c.split != request.split) continue;
    if (trained.count(c.id))
      throw DataError("case '" + c.id + "' of '" + request.cases_file.string() + "' is one the run trained on: "
                      "evaluating on it would overstate the model");
    chosen.cases.push_back(c);
  }
  if (chosen.cases.empty())
    throw DataError("'" + request.cases_file.string() + "' has no cases" +
                    (request.split.empty() ? std::string() : " of split '" + request.split + "'"));
  for (data::Case& c : chosen.cases) c.split = "external";
  return chosen;
}

// The run's clients (without cases) and another manifest's cases as the external set.
Partition other_partition(const RunClients& clients, const data::SampleStore& store) {
  Partition p;
  for (const std::string& id : clients.ids) p.clients.push_back({id, {}, {}, {}});
  for (const data::Sample& s : store.samples()) p.external.push_back(&s);
  return p;
}

// The external set's cases (another cohort's, with --cases) site by site, as the pooled block.
std::map<std::string, EvalSummary> external_sites(const EvalPlan& plan, const std::vector<CasePrediction>& predictions,
                                                  std::uint64_t seed) {
  std::map<std::string, std::vector<const CasePrediction*>> by_site;
  for (std::size_t i = 0; i < plan.external_end; ++i) by_site[predictions[i].sample->site].push_back(&predictions[i]);
  std::map<std::string, EvalSummary> out;
  for (const auto& [site, cases] : by_site) out[site] = summarize(cases, seed);
  return out;
}

}  // namespace

Evaluation evaluate_run(const ExperimentConfig& config, const data::Manifest& run_manifest,
                        const EvaluateRequest& request, std::ostream& console) {
  const EvalModels covers = eval_models(config);
  const RunClients clients = run_clients(request.run_dir);
  const std::vector<fs::path> files = model_files(request.run_dir, clients.ids, covers);
  require_run_models(files, request);
  const data::Manifest manifest = request.cases ? other_cases(request, clients.trained) : run_manifest;
  if (request.cases) require_no_leakage(run_manifest, clients.trained, manifest);
  // The run's own partition is drawn and checked against its partitions.json before any case is decoded.
  std::optional<DrawnPartition> own;
  if (!request.cases) {
    own = draw_partition(config, manifest);
    require_run_partition(*own, request.run_dir);
  }
  const auto store = load_cases(config, manifest, console, {});
  const bool changed = !request.cases && data_changed(files, request, store->samples());
  if (changed && !request.allow_changed_data)
    throw DataError("the cases of '" + config.data.manifest +
                    "' differ from those the run's models were trained on (a scan regenerated or edited since the "
                    "run): its own evaluation would describe other data; restore the files, or pass "
                    "--allow-changed-data to evaluate them anyway (flagged \"data_changed\": true)");
  if (changed) console << "fedglioma: warning: the run's cases changed since training; evaluation.json says \"data_changed\": true\n";
  const Partition partition = own ? bind_partition(own->positions, store->samples()) : other_partition(clients, *store);
  const RunModels models(config, request.run_dir, partition, covers);
  const EvalPlan plan = eval_plan(partition, covers);
  const RuntimeConfig& rt = config.runtime;
  Executor executor(static_cast<std::size_t>(rt.workers), rt.threads_per_worker, prepare_devices(rt), config.model);
  SingleProcess single;
  const auto predictions = predict_plan(plan, executor, *store, std::cref(models), single);
  const int round = config.federation.rounds;
  const std::uint64_t seed = derive_seed(config.runtime.seed, static_cast<std::uint64_t>(round), 0, RngPurpose::kBootstrap);
  const RoundEval eval = summarize_plan(plan, partition, predictions, seed);
  std::vector<std::string> names;
  for (std::size_t m : plan.models) names.push_back(m == kGlobalModel ? "global" : partition.clients[m].id);
  Evaluation out;
  out.external_sites = external_sites(plan, predictions, seed);
  json by_site = json::object();
  for (const auto& [site, summary] : out.external_sites) by_site[site] = eval_json(summary);
  json record = {{"run", request.run_dir.string()},
                 {"cases", request.cases ? request.cases_file.string() : std::string("the run's own evaluation sets")},
                 {"split", request.split},
                 {"data_changed", changed},
                 {"eval", round_eval_json(eval)},
                 {"external_sites", by_site}};
  out.json = record.dump(2) + "\n";
  out.predictions_csv = predictions_csv_header() + predictions_csv_rows(round, predictions, names, eval_set_names(plan, partition));
  out.eval = eval;
  return out;
}

}  // namespace fedglioma::sim
