#include "sim/experiment.h"

#include <torch/utils.h>

#include <chrono>
#include <cstdio>
#include <cmath>
#include <exception>

#include "core/aggregate.h"
#include "core/atomic_file.h"
#include "core/devices.h"
#include "core/error.h"
#include "core/random.h"
#include "data/cache.h"
#include "data/patients.h"
#include "sim/client_training.h"
#include "sim/evaluation.h"
#include "sim/executor.h"
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

models::MultiTaskUNet3DOptions model_options(const ModelConfig& m) {
  return models::MultiTaskUNet3DOptions()
      .depth(m.depth)
      .base_channels(m.base_channels)
      .max_channels(m.max_channels)
      .norm(m.norm)
      .head_hidden(m.head_hidden)
      .tumour_pooling(m.tumour_pooling);
}

std::string describe(const std::exception_ptr& error) {
  try {
    std::rethrow_exception(error);
  } catch (const std::exception& e) {
    return e.what();
  } catch (...) {
    return "unknown error";
  }
}

// The cases evaluated each time, in a fixed order: external, validation (by client), test.
struct EvalPlan {
  std::vector<const data::Sample*> cases;
  std::size_t external_end = 0, val_end = 0;
};

EvalPlan eval_plan(const Partition& partition) {
  EvalPlan plan;
  plan.cases = partition.external;
  plan.external_end = plan.cases.size();
  for (const Client& c : partition.clients) plan.cases.insert(plan.cases.end(), c.val.begin(), c.val.end());
  plan.val_end = plan.cases.size();
  plan.cases.insert(plan.cases.end(), partition.test.begin(), partition.test.end());
  return plan;
}

RoundEval summarize_round(const EvalPlan& plan, const std::vector<CasePrediction>& predictions, bool has_test) {
  auto range = [&](std::size_t begin, std::size_t end) {
    std::vector<const CasePrediction*> out;
    for (std::size_t i = begin; i < end; ++i) out.push_back(&predictions[i]);
    return out;
  };
  RoundEval e;
  e.external = summarize(range(0, plan.external_end));
  e.val = summarize(range(plan.external_end, plan.val_end));
  if (has_test) e.test = summarize(range(plan.val_end, predictions.size()));
  std::map<std::string, std::vector<const CasePrediction*>> by_site;
  for (std::size_t i = plan.external_end; i < plan.val_end; ++i) by_site[predictions[i].sample->site].push_back(&predictions[i]);
  for (const auto& [site, cases] : by_site) e.sites[site] = summarize(cases);
  return e;
}

}  // namespace

data::PreprocessOptions preprocess_options(const DataConfig& data) {
  data::PreprocessOptions options;
  options.size = data.size;
  options.spacing = data.spacing;
  options.on_mismatch = data.on_geometry_mismatch;
  return options;
}

void check_ram_budget(const DataConfig& data, std::size_t cases) {
  const double voxels = static_cast<double>(data.size[0] * data.size[1] * data.size[2]);
  const double gb = static_cast<double>(cases) * voxels * (4 * sizeof(float) + 1) / (1024.0 * 1024.0 * 1024.0);
  if (gb > data.cache_ram_gb) {
    char text[256];
    std::snprintf(text, sizeof text,
                  "data.cache_ram_gb: the %zu cases at %lldx%lldx%lld voxels need %.2f GB in memory but the budget is "
                  "%.2f GB; raise data.cache_ram_gb or lower data.size",
                  cases, static_cast<long long>(data.size[0]), static_cast<long long>(data.size[1]),
                  static_cast<long long>(data.size[2]), gb, data.cache_ram_gb);
    throw ConfigError(text);
  }
}

void run_experiment(const ExperimentConfig& config, const data::Manifest& manifest, const fs::path& run_dir,
                    std::ostream& console) {
  const auto run_start = Clock::now();
  const RuntimeConfig& rt = config.runtime;
  const std::vector<std::string> devices = resolve_devices(rt.devices);
  data::check_patient_leakage(manifest);

  std::vector<const data::Case*> records;
  for (const data::Case& c : manifest.cases) records.push_back(&c);
  const data::PreprocessOptions preprocess = preprocess_options(config.data);
  check_ram_budget(config.data, records.size());
  const auto load_start = Clock::now();
  const std::vector<data::Sample> samples = data::load_samples(
      records, preprocess, data::SampleCache(config.data.cache_dir), rt.workers * rt.threads_per_worker);
  console << "fedglioma: " << samples.size() << " case(s) preprocessed or read from the cache in "
          << static_cast<int>(seconds_since(load_start) + 0.5) << " s\n";
  const Partition partition = make_partition(samples, config.partition, config.federation.mode, rt.seed);
  write_file_atomic(run_dir / "partitions.json", partitions_json(partition, config.partition.scheme));
  const EvalPlan plan = eval_plan(partition);

  // The initial global model is built once, here, from the run's seed.
  torch::manual_seed(derive_seed(rt.seed, 0, 0, RngPurpose::kModelInit));
  models::MultiTaskUNet3D initial(model_options(config.model));
  FlatParams global = flatten_state(*initial);

  Executor executor(static_cast<std::size_t>(rt.workers), rt.threads_per_worker, devices, model_options(config.model));
  console << "fedglioma: " << partition.clients.size() << " client(s), " << plan.cases.size()
          << " evaluation case(s), " << executor.size() << " worker(s) on " << devices.front()
          << (devices.size() > 1 ? " and more" : "") << "\n";
  print_round_header(console);

  const fs::path rounds_path = run_dir / "rounds.jsonl";
  std::string metrics_csv = metrics_csv_header();
  std::vector<RoundRecord> history;
  std::vector<CasePrediction> last_predictions;
  int last_eval_round = 0;
  for (int round = 1; round <= config.federation.rounds; ++round) {
    const auto round_start = Clock::now();
    RoundRecord record;
    record.round = round;

    std::vector<ClientUpdate> updates(partition.clients.size());
    const auto errors = executor.run(partition.clients.size(), [&](Worker& worker, std::size_t i) {
      updates[i] = train_client(worker, global, partition.clients[i].train, config.train, rt.seed, round, i);
    });
    std::vector<const FlatParams*> accepted;
    std::vector<double> weights;
    for (std::size_t i = 0; i < partition.clients.size(); ++i) {
      ClientRecord c{partition.clients[i].id, partition.clients[i].train.size(), std::nullopt, "ok"};
      if (errors[i]) {
        c.status = "failed: " + describe(errors[i]);
      } else if (!all_finite(updates[i].params) || !std::isfinite(updates[i].train_loss)) {
        c.status = "non-finite update";
      } else {
        c.train_loss = updates[i].train_loss;
        accepted.push_back(&updates[i].params);
        weights.push_back(static_cast<double>(updates[i].samples));
      }
      record.clients.push_back(c);
    }
    // No usable update: the global model stays as it is (as Flower does).
    if (!accepted.empty()) global = weighted_mean(accepted, weights);
    updates.clear();

    if (round % config.eval.every == 0 || round == config.federation.rounds) {
      std::vector<CasePrediction> predictions(plan.cases.size());
      std::vector<char> loaded(executor.size(), 0);  // one flag per worker; not vector<bool>, workers write concurrently
      const auto eval_errors = executor.run(plan.cases.size(), [&](Worker& worker, std::size_t i) {
        if (!loaded[worker.index]) {
          load_state(*worker.model, global);
          loaded[worker.index] = 1;
        }
        predictions[i] = predict_case(worker, *plan.cases[i]);
      });
      for (const auto& e : eval_errors)
        if (e) std::rethrow_exception(e);
      record.eval = summarize_round(plan, predictions, !partition.test.empty());
      last_predictions = std::move(predictions);
      last_eval_round = round;
    }
    record.seconds = seconds_since(round_start);
    append_line(rounds_path, round_json_line(record));
    metrics_csv += metrics_csv_rows(record);
    print_round_row(console, record);
    history.push_back(std::move(record));
  }

  write_file_atomic(run_dir / "metrics.csv", metrics_csv);
  write_file_atomic(run_dir / "predictions.csv",
                    predictions_csv_header() + predictions_csv_rows(last_eval_round, last_predictions));
  save_state_dict(*initial, global, (run_dir / "model.pt").string());
  write_file_atomic(run_dir / "summary.json", summary_json(history, seconds_since(run_start)));
}

}  // namespace fedglioma::sim
