#include "experiments/cli_preprocess.h"

#include <CLI/CLI.hpp>

#include <unistd.h>

#include <chrono>
#include <cstdio>

#include "core/error.h"
#include "data/cache.h"
#include "data/manifest.h"
#include "data/nifti_io.h"
#include "experiments/config_json.h"
#include "sim/experiment.h"

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
  if (!s.mask.empty()) data::write_labels(dir / "mask.nii.gz", {s.geometry, s.mask});
}

}  // namespace

CLI::App* setup_preprocess(CLI::App& app, PreprocessCliOptions& options) {
  CLI::App* cmd = app.add_subcommand(
      "preprocess", "Fill the preprocessing cache for a config's manifest; --export writes what the network sees");
  cmd->add_option("--config", options.config, "Experiment config (JSON)")->required();
  cmd->add_option("--export", options.export_dir, "Write each preprocessed case as NIfTI into this folder");
  cmd->add_option("--set", options.overrides, "Override a config field: key.path=value (repeatable)");
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
  auto progress = [&](std::size_t done, std::size_t total) {
    if (!tty) return;
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    const double eta = done ? s / static_cast<double>(done) * static_cast<double>(total - done) : 0.0;
    char line[128];
    std::snprintf(line, sizeof line, "\rpreprocess: %zu/%zu cases, %.0f s, eta %.0f s   ", done, total, s, eta);
    console << line << std::flush;
  };
  const auto samples =
      data::load_samples(records, sim::preprocess_options(config.data), data::SampleCache(config.data.cache_dir),
                         config.runtime.workers * config.runtime.threads_per_worker, progress);
  if (tty) console << "\n";
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (!options.export_dir.empty())
    for (const auto& s : samples) export_sample(s, options.export_dir / s.id);
  char summary[200];
  std::snprintf(summary, sizeof summary, "preprocessed %zu case(s) in %.2f s; cache: %s\n", samples.size(), seconds,
                config.data.cache_dir.empty() ? "disabled" : config.data.cache_dir.c_str());
  console << summary;
  if (!options.export_dir.empty()) console << "exported to " << options.export_dir.string() << "\n";
  return samples.size();
}

}  // namespace fedglioma::experiments
