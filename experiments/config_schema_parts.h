#pragma once

// The config schema's sections that live outside experiments/config_schema.cpp (which composes
// them, in reading order, into config_schema()).
#include <vector>

#include "experiments/config_schema.h"

namespace fedglioma::experiments {

/// `federation.*`: rounds, selection, the strategy, the virtual clock and the asynchronous federations.
std::vector<ConfigField> federation_fields();

/// `eval.*`: when to evaluate, fine-tuning before it, and the rule that picks the reported round.
std::vector<ConfigField> eval_fields();

/// `runtime.*`: devices, threads, seed, checkpoints, numerics, and what a run writes besides its metrics.
std::vector<ConfigField> runtime_fields();

}  // namespace fedglioma::experiments
