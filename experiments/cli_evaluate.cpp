#include "experiments/cli_evaluate.h"

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <cstdio>
#include <set>

#include "core/atomic_file.h"
#include "core/error.h"
#include "core/file_names.h"
#include "core/owned_folder.h"
#include "data/manifest.h"
#include "experiments/config_json.h"
#include "sim/record/console_table.h"
#include "sim/run/evaluate_run.h"

namespace fedglioma::experiments {
namespace {

namespace fs = std::filesystem;

const OwnedFolder::Kind kEvaluateFolder{"evaluate", "--force", {"evaluation.json", "predictions.csv"}};

// RUN_DIR/evaluate-own, or RUN_DIR/evaluate-<cohort folder>-<manifest name>: cohorts whose
// manifests share a name (every layout writes manifest.json) get folders of their own.
fs::path default_out(const EvaluateOptions& options) {
  if (options.cases.empty()) return options.run_dir / "evaluate-own";
  const std::string folder = fs::absolute(options.cases).lexically_normal().parent_path().filename().string();
  return child_path(options.run_dir, "evaluate-" + (folder.empty() ? "root" : folder) + "-" + options.cases.stem().string(),
                    "--cases", "an evaluation folder (give --out)");
}

// An evaluation is never replaced: a folder that holds one is refused, naming what it evaluated.
void require_no_evaluation(const fs::path& out) {
  const fs::path file = out / "evaluation.json";
  if (!fs::exists(file)) return;
  std::string what = "an earlier evaluation";
  try {
    what = "the evaluation of " + nlohmann::json::parse(read_file(file)).at("cases").get<std::string>();
  } catch (const std::exception&) {
  }
  throw ConfigError("'" + out.string() + "' already holds " + what +
                    "; evaluate never replaces one: give another --out, or remove that folder");
}

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
  cmd->add_flag("--allow-changed-data", options.allow_changed_data,
                "Evaluate the run's own sets even if their files changed since training (flagged data_changed)");
  return cmd;
}

namespace {

// "0.812 [0.760, 0.853] n=30", "-" undefined, "0.500 (no interval) n=2+/0-".
std::string with_interval(const std::optional<double>& v, const std::optional<Interval>& ci, const std::string& n) {
  char text[96];
  if (!v) return "- " + n;
  if (ci)
    std::snprintf(text, sizeof text, "%.3f [%.3f, %.3f] %s", *v, ci->lower, ci->upper, n.c_str());
  else
    std::snprintf(text, sizeof text, "%.3f (no interval) %s", *v, n.c_str());
  return text;
}

void print_set(std::ostream& console, const std::string& name, const sim::EvalSummary& s) {
  console << "  " << name << " (n=" << s.n << "): Dice "
          << with_interval(s.dice_mean, s.dice_mean_ci, "n=" + std::to_string(s.n_dice));
  for (std::size_t m = 0; m < data::kMarkers.size(); ++m)
    console << "; AUC " << data::kMarkers[m] << " "
            << with_interval(s.auc[m], s.auc_ci_delong[m],
                             "n=" + std::to_string(s.n_positive[m]) + "+/" + std::to_string(s.n_negative[m]) + "-");
  console << (s.diverged ? " (diverged: " + *s.diverged + ")" : std::string()) << "\n";
}

// The pooled sets, the external set site by site, and a note per number without an interval.
void print_evaluation(std::ostream& console, const sim::Evaluation& result, bool own) {
  console << "fedglioma: evaluation (95 % intervals: bootstrap for Dice, DeLong for AUCs)\n";
  print_set(console, own ? "external" : "cases", result.eval.external);
  if (own) print_set(console, "val", result.eval.val);
  if (result.eval.test) print_set(console, "test", *result.eval.test);
  if (result.external_sites.size() > 1)
    for (const auto& [site, summary] : result.external_sites) print_set(console, "  site " + site, summary);
  std::set<std::string> seen;
  for (const std::string& note : sim::interval_notes("evaluation", result.eval, seen))
    console << "fedglioma: warning: " << note << "\n";
  for (const auto& [site, s] : result.external_sites) {
    std::string missing;
    for (const sim::MissingInterval& m : sim::missing_intervals(s))
      missing += (missing.empty() ? "" : ", ") + (m.marker ? "AUC " + std::string(data::kMarkers[*m.marker]) : "mean Dice");
    if (result.external_sites.size() > 1 && !missing.empty())
      console << "fedglioma: warning: site " << site << " (n=" << s.n << "): " << missing
              << " without an interval (too few cases of a class; evaluation.json external_sites gives each reason)\n";
  }
}

}  // namespace

fs::path run_evaluate(const EvaluateOptions& options, std::ostream& console) {
  const fs::path config_path = options.run_dir / "config.resolved.json";
  if (!fs::exists(config_path))
    throw ConfigError("'" + options.run_dir.string() + "' is not a run folder: it has no config.resolved.json");
  if (!options.split.empty() && options.cases.empty()) throw ConfigError("--split needs --cases");
  if (options.allow_changed_data && !options.cases.empty())
    throw ConfigError("--allow-changed-data is for the run's own sets; --cases evaluates other data anyway");
  const fs::path out = options.out.empty() ? default_out(options) : options.out;
  OwnedFolder::check(out, kEvaluateFolder, options.force);  // before the work, not after
  require_no_evaluation(out);
  const LoadedConfig loaded = load_config(config_path, {});
  const data::Manifest run_manifest = data::load_manifest(loaded.config.data.manifest);
  data::Manifest other;
  if (!options.cases.empty()) other = data::load_manifest(options.cases);
  sim::EvaluateRequest request{options.run_dir, options.cases.empty() ? nullptr : &other, options.cases, options.split,
                               loaded.resolved_json, options.allow_changed_data};
  const sim::Evaluation result = sim::evaluate_run(loaded.config, run_manifest, request, console);
  const OwnedFolder folder = OwnedFolder::claim(out, kEvaluateFolder, options.force);
  write_file_atomic(out / "predictions.csv", result.predictions_csv);
  write_file_atomic(out / "evaluation.json", result.json);  // last: its presence means both are there
  print_evaluation(console, result, options.cases.empty());
  console << "fedglioma: wrote " << (out / "evaluation.json").string() << " and predictions.csv\n";
  return out;
}

}  // namespace fedglioma::experiments
