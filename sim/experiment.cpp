#include "sim/experiment.h"

#include <torch/utils.h>

#include <chrono>
#include <cstdio>
#include <cmath>
#include <algorithm>
#include <atomic>
#include <exception>
#include <mutex>
#include <set>
#include <sstream>

#include "core/aggregate.h"
#include "core/atomic_file.h"
#include "core/devices.h"
#include "core/error.h"
#include "core/file_names.h"
#include "core/random.h"
#include "core/metrics.h"
#include "core/numerics.h"
#include "data/sample_store.h"
#include "sim/checkpoint.h"
#include "sim/client_state.h"
#include "sim/strategy.h"
#include "data/patients.h"
#include "sim/client_training.h"
#include "sim/eval_plan.h"
#include "sim/evaluation.h"
#include "sim/executor.h"
#include "sim/model_identity.h"
#include "sim/model_state.h"
#include "sim/partition.h"
#include "sim/run_log.h"

namespace fedglioma::sim {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}


std::string describe(const std::exception_ptr& error) {
  try {
    std::rethrow_exception(error);
  } catch (const std::exception& e) {
    return message_of(e);
  } catch (...) {
    return "unknown error";
  }
}

}  // namespace

data::PreprocessOptions preprocess_options(const DataConfig& data) {
  data::PreprocessOptions options;
  options.size = data.size;
  options.spacing = data.spacing;
  options.on_mismatch = data.on_geometry_mismatch;
  return options;
}

namespace {
std::uint64_t gigabytes(double gb) { return static_cast<std::uint64_t>(gb * 1024.0 * 1024.0 * 1024.0); }
}  // namespace

std::uint64_t ram_budget_bytes(const DataConfig& data) { return gigabytes(data.cache_ram_gb); }

namespace {

// A per-client setting that names no client of the partition would be ignored without a word.
void check_client_keys(const FederationConfig& fed, const Partition& partition) {
  std::set<std::string> ids;
  std::string list;
  for (const Client& c : partition.clients) {
    ids.insert(c.id);
    list += (list.empty() ? "" : ", ") + c.id;
  }
  const auto& sim = fed.simulated_time;
  for (const auto& [name, by_client] : {std::pair{"site_samples_per_second", &sim.site_samples_per_second},
                                        std::pair{"site_megabits_per_second", &sim.site_megabits_per_second}})
    for (const auto& [client, value] : *by_client)
      if (!ids.count(client))
        throw ConfigError(std::string("federation.simulated_time.") + name + ": \"" + client +
                          "\" is not a client of this partition (its clients: " + list + ")");
}

double site_value(const std::map<std::string, double>& by_site, const std::string& client, double fallback) {
  const auto it = by_site.find(client);
  return it == by_site.end() ? fallback : it->second;
}

}  // namespace

void run_experiment(const ExperimentConfig& config, const data::Manifest& manifest, const fs::path& run_dir,
                    std::ostream& console, const RunControl& control) {
  const bool resume = control.resume;
  const auto run_start = Clock::now();
  const RuntimeConfig& rt = config.runtime;
  const FederationConfig& fed = config.federation;
  const bool local_mode = fed.mode == "local";
  require_cpu_numerics(rt.cpu_numerics);
  const std::vector<std::string> devices = resolve_devices(rt.devices);
  set_cuda_determinism(rt.deterministic, devices.front() != "cpu");
  if (config.train.mixed_precision && devices.front() == "cpu" && !cpu_has_bfloat16_kernels())
    throw ConfigError(std::string("train.mixed_precision: bfloat16 autocast on the CPU needs oneDNN's AVX-512 kernels, ") +
                      (rt.cpu_numerics == "portable"
                           ? "which runtime.cpu_numerics \"portable\" rules out (it caps oneDNN at AVX2); set "
                             "runtime.cpu_numerics to \"native\" or train on CUDA"
                           : "and this CPU has no AVX-512; train on CUDA or without mixed precision"));
  data::check_patient_leakage(manifest);
  check_thread_budget(rt);

  std::vector<const data::Case*> records;
  for (const data::Case& c : manifest.cases) records.push_back(&c);
  const auto load_start = Clock::now();
  const data::SampleStore store(records, preprocess_options(config.data), data::SampleCache(config.data.cache_dir),
                                ram_budget_bytes(config.data), rt.workers * rt.threads_per_worker);
  console << "fedglioma: " << store.samples().size() << " case(s) preprocessed or read from the cache in "
          << static_cast<int>(seconds_since(load_start) + 0.5) << " s"
          << (store.streaming() ? "; more than data.cache_ram_gb: streamed from the disk cache" : "") << "\n";
  const Partition partition = make_partition(store.samples(), config.partition, fed.mode, rt.seed);
  check_client_keys(fed, partition);
  if (static_cast<std::size_t>(fed.min_clients) > partition.clients.size())
    throw ConfigError("federation.min_clients = " + std::to_string(fed.min_clients) + " exceeds the " +
                      std::to_string(partition.clients.size()) +
                      " client(s) of this partition: every round would be skipped; lower it");
  const std::string partition_text = partitions_json(partition, config.partition.scheme);
  if (resume) {
    if (read_file(run_dir / "partitions.json") != partition_text)
      throw ConfigError("'" + (run_dir / "partitions.json").string() +
                        "': the partition drawn now differs from the run's; the manifest or the data changed");
  } else {
    write_file_atomic(run_dir / "partitions.json", partition_text);
  }
  const std::size_t num_clients = partition.clients.size();
  const RunIdentity identity{control.config_json, data_identity(store.samples())};

  // The initial global model is built once, here, from the run's seed.
  torch::manual_seed(derive_seed(rt.seed, 0, 0, RngPurpose::kModelInit));
  models::MultiTaskUNet3D initial(model_options(config.model));
  FlatParams global = flatten_state(*initial);
  {
    char text[160];
    std::snprintf(text, sizeof text, "fedglioma: model: %.3f M parameters, %.2f GFLOP per case forward (about 3x to train)\n",
                  static_cast<double>(parameter_count(*initial)) / 1e6,
                  initial->forward_flops({config.data.size[2], config.data.size[1], config.data.size[0]}) / 1e9);
    console << text;
  }
  const double model_megabits = static_cast<double>(global.size()) * 32.0 / 1e6;
  // What clients keep across rounds (SCAFFOLD's c_i, FedBN's norm layers, local mode's models, with
  // train.keep_optimizer_state their optimizers): in RAM up to runtime.client_state_ram_gb, on disk
  // beyond it. A killed process's spill files are stale: the checkpoint holds the state resumed.
  ClientStateStore client_state(run_dir / "client_state", gigabytes(rt.client_state_ram_gb));
  client_state.clear();
  auto local_model = [&](std::size_t client) {  // local mode: the client's model, the initial one at first
    FlatParams own = client_state.buffer(client, "local.model");
    return own.empty() ? global : own;
  };
  StrategyContext context{num_clients, norm_ranges(*initial), config.train.lr, &client_state};
  const std::unique_ptr<Strategy> strategy = make_strategy(fed.strategy, context);

  const fs::path rounds_path = run_dir / "rounds.jsonl";
  std::vector<RoundRecord> history;
  int first_round = 1;
  RunProgress before;  // the processes before this one, up to the checkpoint resumed from
  before.processes = 0;
  if (resume) {
    // Without a checkpoint (runtime.checkpoint_every 0, a kill or a full disk before the first
    // one) the run starts over: round 1 follows from the seed alone.
    if (fs::exists(checkpoint_path(run_dir)))
      before = load_checkpoint(run_dir, global, client_state, *strategy, identity);
    first_round = before.round + 1;
    // The rounds after the checkpoint (and a line cut short by a kill) are run again.
    std::istringstream lines(read_file(rounds_path));
    std::string kept;
    for (std::string line; static_cast<int>(history.size()) < first_round - 1 && std::getline(lines, line);) {
      try {
        history.push_back(round_from_json_line(line));
      } catch (const std::invalid_argument& e) {
        throw IoError("'" + rounds_path.string() + "' line " + std::to_string(history.size() + 1) +
                      " is damaged (" + e.what() + "); the run cannot be resumed from it");
      }
      kept += line + "\n";
    }
    if (static_cast<int>(history.size()) != first_round - 1)
      throw IoError("'" + rounds_path.string() + "' holds fewer rounds than the checkpoint");
    write_file_atomic(rounds_path, kept);
    console << (first_round > 1 ? "fedglioma: resuming after round " + std::to_string(first_round - 1)
                                : std::string("fedglioma: no checkpoint yet: starting again from round 1"))
            << "\n";
  }

  Executor executor(static_cast<std::size_t>(rt.workers), rt.threads_per_worker, devices, model_options(config.model));
  console << "fedglioma: " << num_clients << " client(s), " << executor.size() << " worker(s) on " << devices.front()
          << (devices.size() > 1 ? " and more" : "") << ", " << fed.strategy.name
          << (local_mode ? " (local mode: no aggregation)" : "") << "\n";

  // Evaluation: which model sees which cases. In local mode each client's model sees the
  // external and test cases and its own validation cases; otherwise the global model sees all.
  struct EvalTask {
    std::size_t model;  // client index (local mode) or 0
    const data::Sample* sample;
  };
  std::vector<EvalTask> eval_tasks;
  const EvalPlan plan = eval_plan(partition);
  if (local_mode) {
    for (std::size_t k = 0; k < num_clients; ++k) {
      for (const data::Sample* s : partition.external) eval_tasks.push_back({k, s});
      for (const data::Sample* s : partition.clients[k].val) eval_tasks.push_back({k, s});
      for (const data::Sample* s : partition.test) eval_tasks.push_back({k, s});
    }
  } else {
    for (const data::Sample* s : plan.cases) eval_tasks.push_back({0, s});
  }
  auto evaluate = [&](std::vector<CasePrediction>& predictions, std::uint64_t seed) {
    predictions.assign(eval_tasks.size(), CasePrediction{});
    std::vector<std::size_t> loaded(executor.size(), SIZE_MAX);  // per worker: the model it holds
    const auto errors = executor.run(eval_tasks.size(), [&](Worker& worker, std::size_t i) {
      const EvalTask& t = eval_tasks[i];
      if (loaded[worker.index] != t.model) {
        load_state(*worker.model, local_mode ? local_model(t.model) : global);
        loaded[worker.index] = t.model;
      }
      predictions[i] = predict_case(worker, *store.fetch(*t.sample));
      predictions[i].sample = t.sample;  // the store's record, which outlives the fetched voxels
    });
    for (const auto& e : errors)
      if (e) std::rethrow_exception(e);
    return local_mode ? summarize_local_round(partition, predictions, seed)
                      : summarize_round(plan, predictions, !partition.test.empty(), seed);
  };

  print_round_header(console);
  const auto loop_start = Clock::now();
  std::vector<CasePrediction> last_predictions;
  int last_eval_round = 0;
  for (int round = first_round; round <= fed.rounds; ++round) {
    const auto round_start = Clock::now();
    RoundRecord record;
    record.round = round;

    // Selection and dropout draw from the run's generators keyed by the round (and client).
    std::vector<std::size_t> training;
    for (std::size_t i : select_clients(fed, num_clients, rt.seed, round)) {
      ClientRecord c;
      c.id = partition.clients[i].id;
      c.samples = partition.clients[i].train.size();
      Rng dropout(derive_seed(rt.seed, static_cast<std::uint64_t>(round), i, RngPurpose::kDropout));
      if (fed.dropout > 0 && dropout.bernoulli(fed.dropout)) {
        c.status = "dropped out";
      } else {
        training.push_back(i);
      }
      record.clients.push_back(c);
    }
    // Updates are checked, and folded into folding strategies, in client-id order as they
    // arrive; a folded update's parameters are freed at once, so that a round of a mean-based
    // strategy holds about one update per worker, not one per client.
    const bool folding = !local_mode && strategy->folds();
    std::vector<ClientUpdate> updates(training.size());
    std::vector<std::exception_ptr> errors(training.size());
    std::vector<char> done(training.size(), 0), usable(training.size(), 0);
    std::size_t next_in_order = 0;
    std::atomic<std::size_t> clients_done{0};
    std::mutex order_mutex, progress_mutex;
    const int rounds_before = round - first_round;
    auto show_progress = [&] {
      if (!control.progress) return;
      std::lock_guard<std::mutex> lock(progress_mutex);
      const double elapsed = seconds_since(loop_start);
      const double per_round = rounds_before > 0 ? elapsed / rounds_before : 0.0;
      std::string eta;
      if (per_round > 0) eta = ", eta " + std::to_string(std::lround(per_round * (fed.rounds - round + 1))) + " s";
      char line[160];
      std::snprintf(line, sizeof line, "\rround %d/%d: %zu/%zu clients trained, %.0f s elapsed%s", round, fed.rounds,
                    clients_done.load(), training.size(), elapsed, eta.c_str());
      console << line << "   " << std::flush;
    };
    show_progress();
    executor.run(training.size(), [&](Worker& worker, std::size_t j) {
      const std::size_t i = training[j];
      try {
        ClientTask task = local_mode ? ClientTask{local_model(i), 0.0, {}, {}} : strategy->task(i, global);
        if (config.train.keep_optimizer_state) task.optimizer_state = client_state.text(i, "optimizer");
        updates[j] = train_client(worker, task, store, partition.clients[i].train, config.train, rt.seed, round, i);
      } catch (...) {
        errors[j] = std::current_exception();
      }
      {
        std::lock_guard<std::mutex> lock(order_mutex);
        done[j] = 1;
        ++clients_done;
        for (; next_in_order < training.size() && done[next_in_order]; ++next_in_order) {
          ClientUpdate& u = updates[next_in_order];
          usable[next_in_order] = !errors[next_in_order] && all_finite(u.params) && std::isfinite(u.train_loss);
          if (folding) {
            if (usable[next_in_order]) strategy->fold(global, {training[next_in_order], &u});
            FlatParams().swap(u.params);
          }
        }
      }
      show_progress();
    });
    if (control.progress) console << "\r" << std::string(90, ' ') << "\r" << std::flush;

    std::vector<ClientResult> accepted;
    const auto& sim = fed.simulated_time;
    for (std::size_t j = 0, r = 0; j < training.size(); ++j) {
      while (record.clients[r].id != partition.clients[training[j]].id) ++r;
      ClientRecord& c = record.clients[r];
      if (errors[j]) {
        c.status = "failed: " + describe(errors[j]);
      } else if (!usable[j]) {
        c.status = "non-finite update";
      } else {
        c.train_loss = updates[j].train_loss;
        c.io_wait_seconds = updates[j].io_wait_seconds;
        c.train_seconds = updates[j].seconds;
        c.skipped_steps = updates[j].skipped_steps;
        if (config.train.keep_optimizer_state)
          client_state.put_text(training[j], "optimizer", std::move(updates[j].optimizer_state));
        accepted.push_back({training[j], &updates[j]});
      }
      if (sim.enabled) {
        const double work = static_cast<double>(c.samples) * config.train.local_epochs;
        c.simulated_seconds = work / site_value(sim.site_samples_per_second, c.id, sim.samples_per_second) +
                              2.0 * model_megabits / site_value(sim.site_megabits_per_second, c.id, sim.megabits_per_second);
        record.simulated_seconds = std::max(record.simulated_seconds.value_or(0.0), *c.simulated_seconds);
      }
    }
    if (accepted.size() < static_cast<std::size_t>(fed.min_clients) || accepted.empty()) {
      // Too few usable updates: the global model (and the strategy's state) stays as it is.
      record.skipped = std::to_string(accepted.size()) + " usable update(s), fewer than federation.min_clients = " +
                       std::to_string(std::max(1, fed.min_clients));
      if (folding) strategy->discard();
    } else if (local_mode) {
      for (const ClientResult& r : accepted) client_state.put(r.client, "local.model", r.update->params);
    } else if (folding) {
      strategy->finish(global);
    } else {
      strategy->aggregate(global, accepted);
    }
    updates.clear();
    if (config.model.task_uncertainty && !local_mode) {
      // By name: LibTorch lists a module's own parameters (this one) before its children's.
      const auto [begin, end] = flat_range(*initial, "task_log_variance");
      record.task_log_variance.emplace();
      for (std::size_t t = 0; t < std::min<std::size_t>(end - begin, 5); ++t)
        (*record.task_log_variance)[t] = global[begin + t];
    }

    if (round % config.eval.every == 0 || round == fed.rounds) {
      record.eval = evaluate(last_predictions, derive_seed(rt.seed, static_cast<std::uint64_t>(round), 0, RngPurpose::kBootstrap));
      last_eval_round = round;
    }
    record.seconds = seconds_since(round_start);
    append_line(rounds_path, round_json_line(record));
    print_round_row(console, record);
    history.push_back(record);
    if (record.skipped && fed.below_min_clients == "stop")
      throw Error("round " + std::to_string(round) + ": " + *record.skipped +
                  "; stopping (federation.below_min_clients = \"stop\")");
    if (rt.checkpoint_every > 0 && (round % rt.checkpoint_every == 0 || round == fed.rounds)) {
      save_checkpoint(run_dir, {round, before.seconds + seconds_since(run_start), before.processes + 1}, global,
                      client_state, *strategy, identity);
    }
  }
  // A run resumed after its last round re-evaluates the final model for predictions.csv.
  if (last_eval_round == 0) {
    evaluate(last_predictions, 0);  // predictions only; the metrics were logged before
    last_eval_round = fed.rounds;
  }

  std::string metrics_csv = metrics_csv_header();
  for (const RoundRecord& r : history) metrics_csv += metrics_csv_rows(r);
  write_file_atomic(run_dir / "metrics.csv", metrics_csv);
  const std::string identity_of_model = control.config_json.empty() ? "" : model_identity(control.config_json);
  std::vector<std::string> models;
  for (const EvalTask& t : eval_tasks) models.push_back(local_mode ? partition.clients[t.model].id : "global");
  write_file_atomic(run_dir / "predictions.csv",
                    predictions_csv_header() + predictions_csv_rows(last_eval_round, last_predictions, models));
  if (local_mode) {
    for (std::size_t i = 0; i < num_clients; ++i)
      save_state_dict(*initial, local_model(i), child_path(run_dir, "model-" + partition.clients[i].id + ".pt", "client", "local mode's model file").string(), identity_of_model);
  } else {
    save_state_dict(*initial, global, (run_dir / "model.pt").string(), identity_of_model);
  }
  if (client_state.ram_bytes() + client_state.disk_bytes() > 0)
    console << "fedglioma: client state: " << client_state.ram_bytes() / 1000000 << " MB in RAM, "
            << client_state.disk_bytes() / 1000000 << " MB on disk (runtime.client_state_ram_gb)\n";
  client_state.clear();  // the last checkpoint holds its own links to the files
  write_file_atomic(run_dir / "summary.json", summary_json(history, {before.seconds + seconds_since(run_start), seconds_since(run_start), before.processes + 1},
                                                         numerics_report()));
}

}  // namespace fedglioma::sim
