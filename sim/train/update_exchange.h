#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "sim/train/client_training.h"

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

}  // namespace fedglioma::sim
