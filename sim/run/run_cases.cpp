#include "sim/run/run_cases.h"

#include <chrono>
#include <set>

#include "core/atomic_file.h"
#include "core/byte_codec.h"
#include "core/error.h"
#include "data/patients.h"
#include "data/sample_store.h"
#include "sim/privacy/dp_mechanism.h"
#include "sim/run/async_loop.h"
#include "sim/run/checkpoint.h"
#include "sim/eval/eval_plan.h"
#include "sim/workers/executor.h"
#include "sim/config/data_options.h"
#include "sim/run/experiment.h"
#include "sim/clients/partition.h"
#include "sim/processes/processes.h"
#include "sim/run/simulated_time.h"
#include "sim/strategy/strategy_registry.h"

namespace fedglioma::sim {

namespace fs = std::filesystem;

namespace {

// The manifest's cases as a partition sees them (id, site, split, labels; no voxels).
std::vector<data::Sample> partition_records(const data::Manifest& manifest) {
  std::vector<data::Sample> records(manifest.cases.size());
  for (std::size_t i = 0; i < records.size(); ++i) {
    const data::Case& c = manifest.cases[i];
    records[i].id = c.id;
    records[i].patient = c.patient_id();
    records[i].site = c.site;
    records[i].split = c.split;
    records[i].labels = c.labels;
    records[i].has_mask = c.mask.has_value();
  }
  return records;
}

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

}  // namespace

DrawnPartition draw_partition(const ExperimentConfig& config, const data::Manifest& manifest) {
  const FederationConfig& fed = config.federation;
  const std::vector<data::Sample> records = partition_records(manifest);
  const Partition partition = make_partition(records, config.partition, fed.mode, config.runtime.seed);
  std::vector<std::string> ids;
  for (const Client& c : partition.clients) ids.push_back(c.id);
  check_simulated_time_clients(fed.simulated_time, ids);
  check_async_clients(fed, ids.size());
  check_dp_clients(config, ids.size());
  if (static_cast<std::size_t>(fed.min_clients) > partition.clients.size())
    throw ConfigError("federation.min_clients = " + std::to_string(fed.min_clients) + " exceeds the " +
                      std::to_string(partition.clients.size()) +
                      " client(s) of this partition: every round would be skipped; lower it");
  return {positions_of(partition, records), partitions_json(partition, config.partition.scheme)};
}

void require_run_partition(const DrawnPartition& drawn, const fs::path& run_dir) {
  const fs::path file = run_dir / "partitions.json";
  if (read_file(file) != drawn.text)
    throw ConfigError("'" + file.string() + "': the partition drawn now differs from the run's; the manifest or the data changed");
}

DrawnPartition check_partition(const ExperimentConfig& config, const data::Manifest& manifest, const fs::path& run_dir,
                               const RunControl& control, bool writes) {
  DrawnPartition drawn = draw_partition(config, manifest);
  if (control.resume) {
    if (fs::exists(checkpoint_path(run_dir))) check_checkpoint_config(run_dir, control.config_json);
    require_run_partition(drawn, run_dir);
  } else if (writes) {
    write_file_atomic(run_dir / "partitions.json", drawn.text);
  }
  return drawn;
}

namespace {

// A brats_regions run: how many masks tell the sub-regions apart (the others train the whole
// tumour only); none is a ConfigError naming the conventions the manifest has.
void check_regions(const ExperimentConfig& config, const data::Manifest& manifest, std::ostream& console) {
  if (config.model.segmentation != "brats_regions") return;
  const data::PreprocessOptions options = preprocess_options(config);
  std::size_t masks = 0, regions = 0;
  std::set<std::string> conventions;
  for (const data::Case& c : manifest.cases) {
    if (!c.mask) continue;
    ++masks;
    regions += data::reads_regions(c, options);
    conventions.insert(c.label_convention.empty() ? "(none)" : c.label_convention);
  }
  if (regions == 0) {
    std::string names;
    for (const std::string& name : conventions) names += (names.empty() ? "" : ", ") + name;
    throw ConfigError("model.segmentation: \"brats_regions\" needs masks with sub-regions, but no case's label "
                      "convention has them (the manifest's: " + (names.empty() ? std::string("no masks") : names) +
                      "); set label_convention to brats2021, brats2023, brats2024 or msd where the labels are "
                      "BraTS or Decathlon labels (docs/data.md, \"Label conventions by release\")");
  }
  console << "fedglioma: " << regions << " of " << masks << " mask(s) have sub-regions"
          << (regions < masks ? " (the others train the whole tumour only)" : "") << "\n";
}

}  // namespace

std::unique_ptr<data::SampleStore> load_cases(const ExperimentConfig& config, const data::Manifest& manifest,
                                              std::ostream& console, std::vector<bool> needed) {
  check_thread_budget(config.runtime);  // cheap checks first: the leakage check may hash files
  data::check_patient_leakage(manifest);
  check_regions(config, manifest, console);
  std::vector<const data::Case*> records;
  for (const data::Case& c : manifest.cases) records.push_back(&c);
  const auto start = Clock::now();
  const auto warnings = std::make_shared<CaseWarnings>();
  auto store = std::make_unique<data::SampleStore>(records, preprocess_options(config, warnings),
                                                   data::SampleCache(config.data.cache_dir), ram_budget_bytes(config.data),
                                                   config.runtime.workers * config.runtime.threads_per_worker,
                                                   std::function<void(std::size_t, std::size_t)>{}, std::move(needed));
  warnings->print(console);
  std::size_t loaded = 0;
  for (std::size_t i = 0; i < store->samples().size(); ++i) loaded += store->loaded(i);
  console << "fedglioma: " << (loaded < store->samples().size() ? std::to_string(loaded) + " of " : std::string())
          << store->samples().size() << " case(s) preprocessed or read from the cache in "
          << static_cast<int>(seconds_since(start) + 0.5) << " s"
          << (store->streaming() ? "; more than data.cache_ram_gb: streamed from the disk cache" : "") << "\n";
  return store;
}

// The cases this rank uses: the training cases of the clients it owns and its share of the
// evaluation plan (positions i % size == rank); every case in one process. Local mode is the one
// strategy whose clients deploy their own models (Strategy::personal); a personal strategy whose
// plan differs fails at its first fetch of a case this rank did not load, never silently.
EvalModels eval_models(const ExperimentConfig& config) {
  if (config.federation.mode == "local") return EvalModels::kPersonal;
  if (config.eval.finetune_epochs > 0) return EvalModels::kBoth;
  if (config.federation.mode == "federated" && strategy_entry(config.federation.strategy.name).personal)
    return EvalModels::kBoth;
  return EvalModels::kGlobal;
}

std::vector<bool> needed_cases(const ExperimentConfig& config, const data::Manifest& manifest,
                               const DrawnPartition& drawn, const Processes& processes) {
  if (processes.size() == 1) return {};
  const std::vector<data::Sample> records = partition_records(manifest);
  const Partition partition = bind_partition(drawn.positions, records);
  const EvalPlan plan = eval_plan(partition, eval_models(config));
  std::set<std::string> ids;
  for (std::size_t c = 0; c < partition.clients.size(); ++c)
    if (processes.owns(c))
      for (const data::Sample* s : partition.clients[c].train) ids.insert(s->id);
  for (std::size_t i = 0; i < plan.cases.size(); ++i)
    if (processes.owns(i)) ids.insert(plan.cases[i]->id);
  std::vector<bool> needed(manifest.cases.size());
  for (std::size_t i = 0; i < needed.size(); ++i) needed[i] = ids.count(manifest.cases[i].id) > 0;
  return needed;
}

// The run's data identity (every case's id and fingerprint); across processes each rank loaded
// only some cases, so the fingerprints are gathered.
std::string shared_data_identity(const data::SampleStore& store, Processes& processes) {
  const std::vector<data::Sample>& samples = store.samples();
  if (processes.size() == 1) return data_identity(samples);
  ByteWriter w;
  for (std::size_t i = 0; i < samples.size(); ++i)
    if (store.loaded(i)) {
      w.put<std::uint64_t>(i);
      w.put<std::uint64_t>(samples[i].fingerprint);
    }
  std::vector<std::uint64_t> fingerprints(samples.size(), 0);
  const std::string what = "the cases' fingerprints";
  for (const std::string& bytes : processes.allgather(w.take(), what)) {
    ByteReader r(bytes, what);
    while (!r.done()) {
      const auto i = r.get<std::uint64_t>();
      const auto fingerprint = r.get<std::uint64_t>();
      if (i < fingerprints.size()) fingerprints[i] = fingerprint;
    }
  }
  return data_identity(samples, fingerprints);
}

}  // namespace fedglioma::sim
