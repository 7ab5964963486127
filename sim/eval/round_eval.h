#pragma once

#include <map>
#include <optional>
#include <string>

#include "sim/eval/evaluation.h"

namespace fedglioma::sim {

/// A site's own model (a personalising strategy's, local mode's) on its validation cases and on
/// the external set.
struct OwnModelEval {
  EvalSummary val;
  EvalSummary external;
};

/// The evaluations of one round: the external set, the pooled validation cases, the test split
/// (when the manifest has one) and the validation cases of each site, all of the global model
/// (local mode: see summarize_plan); with models of the clients' own, each one's (by client id).
struct RoundEval {
  EvalSummary external;
  EvalSummary val;
  std::optional<EvalSummary> test;
  std::map<std::string, EvalSummary> sites;
  std::map<std::string, OwnModelEval> personal;
};

}  // namespace fedglioma::sim
