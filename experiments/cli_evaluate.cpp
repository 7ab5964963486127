#include "experiments/cli_evaluate.h"

#include <CLI/CLI.hpp>

#include "core/atomic_file.h"
#include "core/error.h"
#include "core/owned_folder.h"
#include "data/manifest.h"
#include "experiments/config_json.h"
#include "sim/run/evaluate_run.h"

namespace fedglioma::experiments {
namespace {

namespace fs = std::filesystem;

const OwnedFolder::Kind kEvaluateFolder{"evaluate", "--force", {"evaluation.json", "predictions.csv"}};

}  // namespace

CLI::App* setup_evaluate(CLI::App& app, EvaluateOptions& options) {
  CLI::App* cmd = app.add_subcommand(
      "evaluate", "Evaluate a finished run's final model(s) on its own evaluation sets or on another cohort, without training");
  cmd->add_option("run", options.run_dir, "Run folder (config.resolved.json, partitions.json, model.pt / model-<client>.pt)")
      ->required();
  cmd->add_option("--cases", options.cases, "Manifest of other cases (a new external cohort); none the run trained on");
  cmd->add_option("--split", options.split, "With --cases: only the cases of this split");
  cmd->add_option("--out", options.out, "Output folder (default: RUN_DIR/evaluate-<manifest name>, or evaluate-own)");
  cmd->add_flag("--force", options.force,
                "Write into an existing folder that evaluate did not make (refused if it holds either output)");
  return cmd;
}

fs::path run_evaluate(const EvaluateOptions& options, std::ostream& console) {
  const fs::path config_path = options.run_dir / "config.resolved.json";
  if (!fs::exists(config_path))
    throw ConfigError("'" + options.run_dir.string() + "' is not a run folder: it has no config.resolved.json");
  if (!options.split.empty() && options.cases.empty()) throw ConfigError("--split needs --cases");
  const fs::path out = !options.out.empty()        ? options.out
                       : options.cases.empty()     ? options.run_dir / "evaluate-own"
                                                   : options.run_dir / ("evaluate-" + options.cases.stem().string());
  OwnedFolder::check(out, kEvaluateFolder, options.force);  // before the work, not after
  const LoadedConfig loaded = load_config(config_path, {});
  const data::Manifest run_manifest = data::load_manifest(loaded.config.data.manifest);
  data::Manifest other;
  if (!options.cases.empty()) other = data::load_manifest(options.cases);
  sim::EvaluateRequest request{options.run_dir, options.cases.empty() ? nullptr : &other, options.cases, options.split};
  const sim::Evaluation result = sim::evaluate_run(loaded.config, run_manifest, request, console);
  const OwnedFolder folder = OwnedFolder::claim(out, kEvaluateFolder, options.force);
  write_file_atomic(out / "predictions.csv", result.predictions_csv);
  write_file_atomic(out / "evaluation.json", result.json);  // last: its presence means both are there
  console << "fedglioma: wrote " << (out / "evaluation.json").string() << " and predictions.csv\n";
  return out;
}

}  // namespace fedglioma::experiments
