#pragma once

#include <cstddef>
#include <vector>

#include "sim/eval/evaluation.h"

namespace fedglioma::sim {

class Processes;

/// Shares the predictions made here (`mine`: positions in the evaluation plan, with their
/// predictions) and fills every process's into `all` (sample pointers are set by the caller).
void exchange_predictions(Processes& processes, const std::vector<std::size_t>& mine,
                          std::vector<CasePrediction>& all);

}  // namespace fedglioma::sim
