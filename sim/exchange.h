#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "sim/client_training.h"
#include "sim/evaluation.h"

namespace fedglioma::sim {

class Processes;

/// One client's result of a round as it crosses processes: its update, or the message of the
/// error it failed with.
struct ClientResult {
  std::size_t index = 0;  ///< position among the round's training clients
  std::string error;      ///< empty when it trained
  ClientUpdate update;
};

/// Sends this process's results to every process and returns every process's, concatenated (the
/// caller orders them by index). Every field crosses bit for bit, so the aggregation that follows
/// is the one a single process makes.
std::vector<ClientResult> exchange_results(Processes& processes, const std::vector<ClientResult>& mine, int round);

/// Shares the predictions made here (`mine`: positions in the evaluation plan, with their
/// predictions) and fills every process's into `all` (sample pointers are set by the caller).
void exchange_predictions(Processes& processes, const std::vector<std::size_t>& mine,
                          std::vector<CasePrediction>& all);

}  // namespace fedglioma::sim
