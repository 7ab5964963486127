#pragma once

#include <ostream>
#include <set>
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

/// Notes on the numbers of `eval` that have no 95 % interval (too few cases, one class, no
/// spread) on the external, validation and test sets, each (set, metric) once: `seen` keeps
/// those already noted. `where` starts each: "round 3 val: AUC mgmt has no interval (1 positive
/// and 4 negatives: an AUC interval needs at least 2 of each)".
std::vector<std::string> interval_notes(const std::string& where, const RoundEval& eval, std::set<std::string>& seen);

/// The evaluated sets of a round whose model diverged, as (which set, in words; the reason).
std::vector<std::pair<std::string, std::string>> diverged_sets(const RoundEval& eval);

}  // namespace fedglioma::sim
