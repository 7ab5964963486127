#pragma once

#include <ostream>
#include <string>
#include <utility>
#include <vector>

#include "sim/eval/round_eval.h"
#include "sim/record/run_log.h"

namespace fedglioma::sim {

/// The console table printed while a run goes: a header, then one row per round.
void print_round_header(std::ostream& out);
/// A row, followed by a warning line for each evaluated set whose model diverged.
void print_round_row(std::ostream& out, const RoundRecord& record);

/// The evaluated sets of a round whose model diverged, as (which set, in words; the reason).
std::vector<std::pair<std::string, std::string>> diverged_sets(const RoundEval& eval);

}  // namespace fedglioma::sim
