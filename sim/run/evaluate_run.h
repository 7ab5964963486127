#pragma once

#include "sim/eval/round_eval.h"

#include <filesystem>
#include <map>
#include <ostream>
#include <string>

#include "data/manifest.h"
#include "sim/config/experiment_config.h"

namespace fedglioma::sim {

/// What `fedglioma evaluate` evaluates: a finished run's final model(s) (model.pt and, for runs
/// whose clients deploy models of their own, model-<client>.pt), on the run's own evaluation sets
/// or on the cases of another manifest.
struct EvaluateRequest {
  std::filesystem::path run_dir;
  const data::Manifest* cases = nullptr;  ///< another cohort; null: the run's own evaluation sets
  std::filesystem::path cases_file;       ///< where `cases` came from (for messages)
  std::string split;                      ///< with `cases`: only the cases of this split; "" = all
  std::string config_json;                ///< the run's resolved config, as text (the models' identity)
  bool allow_changed_data = false;        ///< evaluate the run's own sets even if their data changed, flagged
};

/// evaluation.json (the "eval" block of rounds.jsonl, plus what was evaluated) and predictions.csv.
struct Evaluation {
  std::string json;             ///< evaluation.json: the round's eval block, and `external_sites` (the external set site by site)
  std::string predictions_csv;
  RoundEval eval;               ///< what json holds, for the console
  std::map<std::string, EvalSummary> external_sites;  ///< the external set site by site (json's external_sites)
};

/// Evaluates without training. On the run's own sets, with the run's own seed for the bootstrap,
/// the result is the run's final evaluation exactly. Another manifest's cases are the "external"
/// set (and each site's own model's). As strict as `run`, and before any case is decoded: every
/// model file exists and records this run (a model.pt copied from another run of the same
/// architecture is refused); another manifest's case that is a patient the run trained on (by id,
/// alias, the same file or identical contents: run's leakage check) is refused, naming both.
/// After loading, the run's own sets must hold the data the models were trained on (their
/// fingerprint), unless `allow_changed_data` (then `data_changed` is true in evaluation.json).
/// `config` is the run's config.resolved.json and `run_manifest` its manifest. Throws
/// ConfigError / DataError naming the file or case.
Evaluation evaluate_run(const ExperimentConfig& config, const data::Manifest& run_manifest,
                        const EvaluateRequest& request, std::ostream& console);

}  // namespace fedglioma::sim
