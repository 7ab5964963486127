#include "experiments/cli_preprocess.h"

#include <CLI/CLI.hpp>

#include <unistd.h>

#include <chrono>
#include <cstdio>

#include "core/error.h"
#include "core/file_names.h"
#include "core/owned_folder.h"
#include "core/remove_tree.h"
#include "data/cache.h"
#include "data/label_conventions.h"
#include "data/manifest.h"
#include "data/nifti_io.h"
#include "experiments/config_json.h"
#include "sim/workers/executor.h"
#include "sim/config/data_options.h"
#include "sim/run/experiment.h"

namespace fedglioma::experiments {
namespace {

namespace fs = std::filesystem;

void export_sample(const data::Sample& s, const fs::path& dir) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) throw IoError("cannot create '" + dir.string() + "': " + ec.message());
  const auto n = static_cast<std::size_t>(s.geometry.voxel_count());
  for (std::size_t m = 0; m < data::kModalities.size(); ++m) {
    data::FloatVolume v;
    v.geometry = s.geometry;
    v.voxels.assign(s.image.begin() + static_cast<std::ptrdiff_t>(m * n),
                    s.image.begin() + static_cast<std::ptrdiff_t>((m + 1) * n));
    data::write_image(dir / (std::string(data::kModalities[m]) + ".nii.gz"), v);
  }
  if (s.mask.empty()) return;
  data::MaskVolume mask{s.geometry, s.mask};
  // A brats_regions run's region codes, written as the BraTS 2023 labels a viewer knows.
  if (s.has_regions)
    for (std::uint8_t& v : mask.voxels) v = data::brats2023_label(v);
  data::write_labels(dir / "mask.nii.gz", mask);
}

// What --export writes: one folder per case id (any name), so only into its own folder.
const OwnedFolder::Kind kExportFolder{"export", "", {"*"}};

// A console line rewritten in place with the cases done, the time so far and an estimate of the
// time left (nothing when stdout is not a terminal).
auto progress_line(bool tty, std::chrono::steady_clock::time_point start, std::ostream& console) {
  return [tty, start, &console](std::size_t done, std::size_t total) {
    if (!tty) return;
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    const double eta = done ? s / static_cast<double>(done) * static_cast<double>(total - done) : 0.0;
    char line[128];
    std::snprintf(line, sizeof line, "\rpreprocess: %zu/%zu cases, %.0f s, eta %.0f s   ", done, total, s, eta);
    console << line << std::flush;
  };
}

// The staging folder of this process's own beside `export_dir` (checked to be a folder export made,
// or an empty or new one), created here.
fs::path create_staging(const fs::path& export_dir) {
  OwnedFolder::check(export_dir, kExportFolder, false);
  const fs::path staging(export_dir.string() + ".partial-" + std::to_string(::getpid()));
  std::error_code ec;
  if (!fs::create_directories(staging, ec) || ec)
    throw IoError("cannot create '" + staging.string() + "'" + (ec ? ": " + ec.message() : ": it exists"));
  return staging;
}

}  // namespace

CLI::App* setup_preprocess(CLI::App& app, PreprocessCliOptions& options) {
  CLI::App* cmd = app.add_subcommand(
      "preprocess", "Fill the preprocessing cache for a config's manifest; --export writes what the network sees");
  cmd->add_option("--config", options.config, "Experiment config (JSON)")->required();
  cmd->add_option("--export", options.export_dir, "Write each preprocessed case as NIfTI into this folder");
  cmd->add_option("--set", options.overrides, "Override a config field: key.path=value (repeatable)");
  cmd->add_flag("--prune", options.prune,
                "Afterwards, delete the cache entries that are not this config's cases (older versions, edited files, "
                "other parameters or manifests)");
  return cmd;
}

std::size_t run_preprocess(const PreprocessCliOptions& options, std::ostream& console) {
  const LoadedConfig loaded = load_config(options.config, options.overrides);
  const sim::ExperimentConfig& config = loaded.config;
  const data::Manifest manifest = data::load_manifest(config.data.manifest);
  std::vector<const data::Case*> records;
  for (const auto& c : manifest.cases) records.push_back(&c);

  const bool tty = ::isatty(STDOUT_FILENO) != 0;
  const auto start = std::chrono::steady_clock::now();
  const auto progress = progress_line(tty, start, console);
  // Cases go through in chunks so that memory stays bounded whatever the cohort's size; the
  // export is written to a staging folder of this process's own, and its case folders move into
  // --export (a folder export made, or an empty or new one) only when every case worked.
  const bool exporting = !options.export_dir.empty();
  const fs::path staging = exporting ? create_staging(options.export_dir) : fs::path();
  std::error_code ec;
  sim::check_thread_budget(config.runtime);
  const int threads = config.runtime.workers * config.runtime.threads_per_worker;
  const std::size_t chunk = 4 * static_cast<std::size_t>(std::max(1, threads));
  const data::SampleCache cache(config.data.cache_dir);
  const auto warnings = std::make_shared<sim::CaseWarnings>();
  try {
    for (std::size_t begin = 0; begin < records.size(); begin += chunk) {
      const std::vector<const data::Case*> part(
          records.begin() + static_cast<std::ptrdiff_t>(begin),
          records.begin() + static_cast<std::ptrdiff_t>(std::min(records.size(), begin + chunk)));
      const auto samples = data::load_samples(part, sim::preprocess_options(config, warnings), cache, threads,
                                              [&](std::size_t done, std::size_t) { progress(begin + done, records.size()); });
      warnings->print(console, tty ? "\n" : "");  // off the progress line
      if (exporting)
        for (const auto& s : samples) export_sample(s, child_path(staging, s.id, "id", "case '" + s.id + "'"));
    }
    if (exporting) OwnedFolder::publish(staging, options.export_dir, kExportFolder);
  } catch (...) {
    if (exporting) remove_tree(staging, ec);
    if (tty) console << "\n";
    throw;
  }
  if (tty) console << "\n";
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  char summary[200];
  std::snprintf(summary, sizeof summary, "preprocessed %zu case(s) in %.2f s; cache: %s\n", records.size(), seconds,
                config.data.cache_dir.empty() ? "disabled" : config.data.cache_dir.c_str());
  console << summary;
  if (exporting) console << "exported to " << options.export_dir.string() << "\n";
  if (options.prune) {
    const auto [entries, bytes] = cache.prune(records, sim::preprocess_options(config));
    console << "pruned " << entries << " other cache entr" << (entries == 1 ? "y" : "ies") << " ("
            << bytes / (1024 * 1024) << " MiB)\n";
  }
  return records.size();
}

}  // namespace fedglioma::experiments
