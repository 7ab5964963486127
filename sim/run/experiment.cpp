#include "sim/run/experiment.h"

#include <torch/utils.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <set>
#include <sstream>

#include "core/aggregate.h"
#include "core/atomic_file.h"
#include "core/byte_codec.h"
#include "core/devices.h"
#include "core/error.h"
#include "core/file_names.h"
#include "core/numerics.h"
#include "core/random.h"
#include "core/process_scratch.h"
#include "data/patients.h"
#include "data/sample_store.h"
#include "models/model.h"
#include "models/model_factory.h"
#include "sim/run/async_loop.h"
#include "sim/run/checkpoint.h"
#include "sim/run/resume_point.h"
#include "sim/run/run_model.h"
#include "sim/privacy/dp_mechanism.h"
#include "sim/run/run_cases.h"
#include "sim/state/client_state.h"
#include "sim/train/client_training.h"
#include "sim/eval/eval_plan.h"
#include "sim/eval/evaluation.h"
#include "sim/eval/cross_site.h"
#include "sim/workers/executor.h"
#include "sim/eval/finetune.h"
#include "sim/state/model_identity.h"
#include "sim/state/model_state.h"
#include "sim/clients/partition.h"
#include "sim/processes/processes.h"
#include "sim/record/progress.h"
#include "sim/record/outcome_tables.h"
#include "sim/record/reporters.h"
#include "sim/record/selection.h"
#include "sim/report/report_reporter.h"
#include "sim/run/round_loop.h"
#include "sim/record/run_log.h"
#include "sim/run/simulated_time.h"
#include "sim/strategy/local_strategy.h"
#include "sim/strategy/strategy.h"
#include "sim/strategy/strategy_registry.h"

namespace fedglioma::sim {
namespace {

namespace fs = std::filesystem;

std::uint64_t gigabytes(double gb) { return static_cast<std::uint64_t>(gb * 1024.0 * 1024.0 * 1024.0); }

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

// The devices the run trains on, once the numerics they need are checked.
std::vector<std::string> run_devices(const ExperimentConfig& config, const RunControl& control) {
  const RuntimeConfig& rt = config.runtime;
  const int world = control.processes ? control.processes->size() : 1;
  const std::vector<std::string> devices = prepare_devices(rt, control.local_rank, world);
  if (config.train.mixed_precision && devices.front() == "cpu" && !cpu_has_bfloat16_kernels())
    throw ConfigError(std::string("train.mixed_precision: bfloat16 autocast on the CPU needs oneDNN's AVX-512 kernels, ") +
                      (rt.cpu_numerics == "portable"
                           ? "which runtime.cpu_numerics \"portable\" rules out (it caps oneDNN at AVX2); set "
                             "runtime.cpu_numerics to \"native\" or train on CUDA"
                           : "and this CPU has no AVX-512; train on CUDA or without mixed precision"));
  return devices;
}

// The run's last files besides the reports: predictions.csv (the last evaluation), the global
// model (model.pt; not in local mode) and the clients' own (model-<client>.pt), which `model_of`
// gives.
void write_outputs(const fs::path& run_dir, int eval_round, const std::vector<CasePrediction>& predictions,
                   const EvalPlan& plan, const Partition& partition, const std::function<FlatParams(std::size_t)>& model_of,
                   const models::Model& model, const std::string& identity_of_model) {
  std::vector<std::string> models;
  for (std::size_t i = 0; i < plan.cases.size(); ++i)
    models.push_back(plan.models[i] == kGlobalModel ? "global" : partition.clients[plan.models[i]].id);
  fs::create_directories(run_dir);
  write_file_atomic(run_dir / "predictions.csv", predictions_csv_header() +
                                                     predictions_csv_rows(eval_round, predictions, models,
                                                                          eval_set_names(plan, partition)));
  if (plan.covers != EvalModels::kPersonal)
    save_state_dict(model, model_of(kGlobalModel), (run_dir / "model.pt").string(), identity_of_model);
  if (plan.covers == EvalModels::kGlobal) return;
  for (std::size_t i = 0; i < partition.clients.size(); ++i)
    save_state_dict(model, model_of(i),
                    child_path(run_dir, "model-" + partition.clients[i].id + ".pt", "client", "a personal model's file").string(),
                    identity_of_model);
}

// The private temporary folder where a rank other than 0, which never writes the run folder,
// spills its clients' state; removed on every way out (see ProcessScratch). Rank 0 has none.
std::unique_ptr<ProcessScratch> rank_scratch(int rank) {
  if (rank == 0) return nullptr;
  return std::make_unique<ProcessScratch>("fedglioma-rank", std::to_string(rank));
}

// Where per-client state spills: the run folder's client_state/ for rank 0 (its checkpoints link
// the files), the rank's scratch folder for the others.
fs::path client_state_dir(const fs::path& run_dir, const ProcessScratch* scratch) {
  return scratch ? scratch->path() : run_dir / "client_state";
}


// One run, wired: the constructor checks the inputs and builds every part (cases, partition,
// model, client state, strategy, resume point, workers); run() drives the round loop and writes
// the run's files.
class ExperimentRun {
 public:
  ExperimentRun(const ExperimentConfig& config, const data::Manifest& manifest, const fs::path& run_dir,
                std::ostream& console, const RunControl& control)
      : config_(config), run_dir_(run_dir), console_(console), control_(control),
        processes_(control.processes ? *control.processes : single_),
        writes_(processes_.rank() == 0),
        devices_(run_devices(config, control)),
        drawn_(check_partition(config, manifest, run_dir, control, writes_)),
        store_(load_cases(config, manifest, console, needed_cases(config, manifest, drawn_, processes_))),
        partition_(bind_partition(drawn_.positions, store_->samples())),
        identity_{control.config_json, shared_data_identity(*store_, processes_)},
        scratch_(rank_scratch(processes_.rank())),
        client_state_(client_state_dir(run_dir, scratch_.get()), gigabytes(config.runtime.client_state_ram_gb)) {
    const RuntimeConfig& rt = config.runtime;
    const FederationConfig& fed = config.federation;
    // The initial global model is built once, here, from the run's seed.
    initial_ = initial_model(config, console);
    global_ = flatten_state(*initial_);
    clock_ = make_site_clock(config, partition_, static_cast<double>(global_.size()) * 32.0 / 1e6);
    // What clients keep across rounds, in RAM up to runtime.client_state_ram_gb and on disk beyond
    // it. A killed process's spill files are stale: the checkpoint holds the state resumed.
    client_state_.clear();
    StrategyContext context{partition_.clients.size(), norm_ranges(*initial_), &client_state_,
                            fed.clients_per_round,     fed.min_clients,        rt.seed};
    context.groups = flat_groups(*initial_);
    context.missing_groups = initial_->missing_groups();
    context.local_epochs = config.train.local_epochs;
    for (const Client& c : partition_.clients) context.client_labels.push_back(c.labelled);
    strategy_ = fed.mode == "local" ? make_local_strategy(context) : make_strategy(fed.strategy, context);
    if (fed.mode != "local") warnings_ = strategy_warnings(fed.strategy, config.train);
    for (const std::string& warning : warnings_) console << "fedglioma: warning: " << warning << "\n";
    if (fed.dp.enabled) dp_ = std::make_unique<DpMechanism>(dp_settings(config, client_ids(partition_), train_sizes()));
    if (control.resume)
      at_ = resume_run(run_dir, global_, client_state_, *strategy_, identity_, checkpoint_parts(), console, writes_);
    else at_.before.processes = 0;
    if (writes_) reporters_ = make_reporters();
    executor_ = std::make_unique<Executor>(static_cast<std::size_t>(rt.workers), rt.threads_per_worker, devices_,
                                           config.model);
    console << "fedglioma: " << partition_.clients.size() << " client(s), " << executor_->size() << " worker(s)"
            << (processes_.size() > 1 ? " x " + std::to_string(processes_.size()) + " processes" : "") << " on "
            << devices_.front() << (devices_.size() > 1 ? " and more" : "") << ", "
            << (fed.mode == "local"    ? std::string("local mode: no aggregation")
                : strategy_->personal() ? fed.strategy.name + " (each site also keeps a model of its own)"
                                        : fed.strategy.name)
            << "\n";
    plan_ = eval_plan(partition_, eval_models(config));
  }

  void run() {
    const FederationConfig& fed = config_.federation;
    // The learning rate follows the server version the client starts from (round - 1 in a
    // synchronous round); `round` keys the client's draws.
    const ClientTrainer trainer = [this](Worker& worker, const ClientTask& task, std::size_t client, int round) {
      const double lr = round_lr(config_.train, static_cast<int>(task.model_version) + 1, config_.federation.rounds);
      return train_client(worker, task, *store_, partition_.clients[client].train, config_.train, lr,
                          config_.runtime.seed, round, client);
    };
    RoundProgress progress(console_, control_.progress, at_.first_round, fed.rounds);
    for (const auto& r : reporters_) r->start();
    const int last = asynchronous() ? run_async(trainer, progress) : run_rounds(trainer, progress);
    const RoundRecord* end = at_.history.empty() ? nullptr : &at_.history.back();
    if (end && end->privacy && end->privacy->stopped)
      console_ << "fedglioma: stopping after round " << last << ": " << *end->privacy->stopped << "\n";
    // A run resumed after its last round re-evaluates the final model for predictions.csv.
    if (last_eval_round_ == 0) evaluate(last, 0);  // predictions only; the metrics were logged before
    if (plan_.covers != EvalModels::kGlobal) cross_site_csv_ = cross_site(last);
    finish();
  }

 private:
  bool asynchronous() const { return config_.federation.aggregation != "synchronous"; }

  // The last round taken (federation.dp.target_epsilon may end the run early).
  int run_rounds(const ClientTrainer& trainer, RoundProgress& progress) {
    RoundLoopSettings settings = round_loop_settings(config_, partition_, *clock_);
    settings.dp = dp_.get();
    RoundLoop loop(*strategy_, *executor_, trainer, client_state_, std::move(settings), progress, processes_);
    return loop.run(at_.first_round, config_.federation.rounds, global_, hooks());
  }

  std::vector<std::size_t> train_sizes() const {
    std::vector<std::size_t> out;
    for (const Client& c : partition_.clients) out.push_back(c.train.size());
    return out;
  }

  // What a checkpoint holds besides the model, the strategy and the clients' state.
  std::vector<BundlePart*> checkpoint_parts() {
    std::vector<BundlePart*> parts;
    if (asynchronous()) parts.push_back(&resumed_async_);
    if (dp_) parts.push_back(dp_.get());
    return parts;
  }

  // Server steps on the virtual clock; the last one taken (the budget may end the run early).
  int run_async(const ClientTrainer& trainer, RoundProgress& progress) {
    AsyncSettings settings = async_settings(config_, partition_, *clock_);
    settings.dp = dp_.get();
    AsyncLoop loop(*strategy_, *executor_, trainer, std::move(settings), progress, processes_);
    if (at_.first_round > 1) loop.restore(std::move(resumed_async_));
    async_loop_ = &loop;
    const int last = loop.run(at_.first_round, config_.federation.rounds, global_, hooks());
    async_loop_ = nullptr;
    return last;
  }

  // The run's files (rank 0) and the end: every process waits for the others here, so rank 0,
  // which serves the rendezvous, is the last to leave.
  void finish() {
    if (writes_) write_files();
    client_state_.clear();  // the last checkpoint holds its own links to the files
    if (processes_.size() > 1) processes_.allgather({}, "the end of the run");
  }

  // The final models of the clients, each on every client's validation cases (cross_site.csv).
  std::string cross_site(int round) {
    const EvalPlan plan = cross_site_plan(partition_, plan_.covers == EvalModels::kBoth);
    const auto predictions =
        predict_plan(plan, *executor_, *store_, [this](std::size_t k) { return model_for(k); }, processes_);
    const std::uint64_t seed = derive_seed(config_.runtime.seed, static_cast<std::uint64_t>(round), 0, RngPurpose::kBootstrap);
    return cross_site_csv(partition_, summarize_cross_site(partition_, plan, predictions, seed));
  }

  void write_files() {
    if (!cross_site_csv_.empty()) write_file_atomic(run_dir_ / "cross_site.csv", cross_site_csv_);
    write_outputs(run_dir_, last_eval_round_, last_predictions_, plan_, partition_,
                  [this](std::size_t k) { return model_for(k); }, *initial_, model_file_identity());
    if (client_state_.ram_bytes() + client_state_.disk_bytes() > 0)
      console_ << "fedglioma: client state: " << client_state_.ram_bytes() / 1000000 << " MB in RAM, "
               << client_state_.disk_bytes() / 1000000 << " MB on disk (runtime.client_state_ram_gb)\n";
    const RunTiming timing{at_.before.seconds + seconds_since(start_), seconds_since(start_), at_.before.processes + 1};
    for (const auto& r : reporters_) r->finish(at_.history, timing);  // summary.json last: the run is done
  }

  RoundHooks hooks() {
    RoundHooks hooks;
    hooks.annotate = [this](RoundRecord& record, const FlatParams& now) { annotate(record, now); };
    hooks.evaluate = [this](int round, bool last) -> std::optional<RoundEval> {
      if (round % config_.eval.every != 0 && !last) return std::nullopt;
      return evaluate(round, derive_seed(config_.runtime.seed, static_cast<std::uint64_t>(round), 0, RngPurpose::kBootstrap));
    };
    hooks.report = [this](const RoundRecord& record) {
      for (const auto& r : reporters_) r->round(record);
      at_.history.push_back(record);
      if (writes_ && record.eval) keep_if_selected(record.round);
    };
    hooks.checkpoint = [this](int round, bool last) {
      const int every = config_.runtime.checkpoint_every;
      if (!writes_) return;  // rank 0's checkpoint holds the state every process shares
      if (every <= 0 || (round % every != 0 && !last)) return;
      std::vector<const BundlePart*> parts;
      if (async_loop_) parts.push_back(&async_loop_->checkpoint_state());
      if (dp_) parts.push_back(dp_.get());
      save_checkpoint(run_dir_, {round, at_.before.seconds + seconds_since(start_), at_.before.processes + 1}, global_,
                      client_state_, *strategy_, identity_, parts);
    };
    return hooks;
  }

  void annotate(RoundRecord& record, const FlatParams& now) const {
    if (config_.federation.simulated_time.enabled && !asynchronous()) {
      add_simulated_time(record, *clock_, client_ids(partition_), config_.federation.deadline_s);
      const double before = at_.history.empty() ? 0.0 : at_.history.back().clock_seconds.value_or(0.0);
      record.clock_seconds = before + record.simulated_seconds.value_or(0.0);
    }
    if (!config_.model.task_uncertainty || strategy_->personal()) return;
    // By name: LibTorch lists a module's own parameters (this one) before its children's.
    const auto [begin, end] = flat_range(*initial_, "task_log_variance");
    record.task_log_variance.emplace();
    for (std::size_t t = 0; t < std::min<std::size_t>(end - begin, 5); ++t) (*record.task_log_variance)[t] = now[begin + t];
  }

  // The reporters of rank 0, once the resume point (and so the rounds already logged) is known.
  std::vector<std::unique_ptr<Reporter>> make_reporters() const {
    ReporterSettings settings;
    const RunFingerprint fingerprint = run_fingerprint(control_.config_json.empty() ? "{}" : control_.config_json,
                                                       identity_.data);
    settings.facts = {{}, warnings_, rule_, fingerprint.config, fingerprint.data};
    settings.facts.numerics.threads_per_worker = config_.runtime.threads_per_worker;
    settings.tensorboard = config_.runtime.tensorboard;
    settings.resumed = at_.history;
    auto out = run_reporters(run_dir_, console_, settings);
    if (config_.runtime.report) out.push_back(report_reporter(run_dir_, console_));
    return out;
  }

  // When the round just logged is the one eval.select_by chooses so far, its predictions and
  // models go to selected/ (what roc.csv, calibration.csv and cases.csv read for `selected`).
  void keep_if_selected(int round) {
    const Selection selection = select_round(at_.history, rule_);
    if (!selection.score || selection.round->round != round) return;
    write_outputs(selected_dir(run_dir_), round, last_predictions_, plan_, partition_,
                  [this](std::size_t k) { return model_for(k); }, *initial_, model_file_identity());
  }

  std::string model_file_identity() const {
    return control_.config_json.empty() ? "" : model_identity(control_.config_json, identity_.data);
  }

  RoundEval evaluate(int round, std::uint64_t seed) {
    finetuned_ = config_.eval.finetune_epochs > 0 ? finetune(round) : std::vector<FlatParams>{};
    last_predictions_ =
        predict_plan(plan_, *executor_, *store_, [this](std::size_t k) { return model_for(k); }, processes_);
    last_eval_round_ = round;
    return strategy_->aggregate_evaluation(plan_, partition_, last_predictions_, seed);
  }

  // The model `k` deploys: kGlobalModel the global one; a client its fine-tuned model, else the
  // strategy's model for it (the global one unless the strategy personalises).
  FlatParams model_for(std::size_t k) const {
    if (k == kGlobalModel) return global_;
    return finetuned_.empty() ? strategy_->model_of(k, global_) : finetuned_[k];
  }

  // eval.finetune_epochs: each client's deployed model trained on its own cases, with draws of
  // their own (RngPurpose::kFineTune) at the round's learning rate.
  std::vector<FlatParams> finetune(int round) {
    TrainConfig tune = config_.train;
    tune.local_epochs = config_.eval.finetune_epochs;
    tune.keep_optimizer_state = false;
    const double lr = round_lr(config_.train, round, config_.federation.rounds);
    const std::uint64_t seed = derive_seed(config_.runtime.seed, static_cast<std::uint64_t>(round), 0, RngPurpose::kFineTune);
    std::vector<std::string> ids;
    for (const Client& c : partition_.clients) ids.push_back(c.id);
    return finetune_clients(ids, *executor_, processes_, [&](Worker& worker, std::size_t c) {
      ClientTask task;
      task.start = strategy_->model_of(c, global_);
      return train_client(worker, task, *store_, partition_.clients[c].train, tune, lr, seed, round, c);
    }, round);
  }

  const ExperimentConfig& config_;
  const fs::path run_dir_;
  std::ostream& console_;
  const RunControl& control_;
  SingleProcess single_;
  Processes& processes_;
  const bool writes_;  // rank 0: the only process that writes the run folder
  const Clock::time_point start_ = Clock::now();
  const std::vector<std::string> devices_;
  const DrawnPartition drawn_;  // drawn once from the manifest, before loading; partitions.json
  const std::unique_ptr<data::SampleStore> store_;
  const Partition partition_;
  const RunIdentity identity_;
  const std::unique_ptr<ProcessScratch> scratch_;  // destroyed after client_state_, which spills there
  ClientStateStore client_state_;
  std::shared_ptr<models::Model> initial_;
  FlatParams global_;
  std::unique_ptr<Strategy> strategy_;
  const SelectionRule rule_ = parse_selection_rule(config_.eval.select_by);  // eval.select_by, checked at load
  std::unique_ptr<SiteClock> clock_;  // federation.simulated_time: each participation's simulated seconds
  const AsyncLoop* async_loop_ = nullptr;  // while an asynchronous run's loop runs: its checkpoint state
  AsyncState resumed_async_;               // an asynchronous run's server at the checkpoint it resumes from
  std::unique_ptr<DpMechanism> dp_;        // federation.dp
  ResumePoint at_;
  std::unique_ptr<Executor> executor_;
  EvalPlan plan_;
  std::vector<CasePrediction> last_predictions_;
  std::vector<FlatParams> finetuned_;  // eval.finetune_epochs: the clients' fine-tuned models
  std::string cross_site_csv_;         // the clients' own final models on every client's validation cases
  int last_eval_round_ = 0;
  std::vector<std::string> warnings_;  // printed at the start, recorded in summary.json
  std::vector<std::unique_ptr<Reporter>> reporters_;  // rank 0's; none on the others
};

}  // namespace

void run_experiment(const ExperimentConfig& config, const data::Manifest& manifest, const fs::path& run_dir,
                    std::ostream& console, const RunControl& control) {
  ExperimentRun(config, manifest, run_dir, console, control).run();
}

}  // namespace fedglioma::sim
