#pragma once

#include <filesystem>
#include <ostream>
#include <string>

namespace CLI {
class App;
}

namespace fedglioma::experiments {

/// Flags of `fedglioma evaluate`.
struct EvaluateOptions {
  std::filesystem::path run_dir;
  std::filesystem::path cases;  ///< --cases MANIFEST: another cohort; empty: the run's own evaluation sets
  std::string split;            ///< --split S: only that split of --cases
  std::filesystem::path out;    ///< empty: RUN_DIR/evaluate-<manifest name>, or RUN_DIR/evaluate-own
  bool force = false;
  bool allow_changed_data = false;  ///< --allow-changed-data
};

CLI::App* setup_evaluate(CLI::App& app, EvaluateOptions& options);

/// Evaluates a finished run's final model(s) without training (sim/run/evaluate_run.h) and writes
/// predictions.csv and then evaluation.json into a folder of their own (evaluation.json present
/// means both are complete). Returns the folder.
std::filesystem::path run_evaluate(const EvaluateOptions& options, std::ostream& console);

}  // namespace fedglioma::experiments
