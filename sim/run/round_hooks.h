#pragma once

#include <cstddef>
#include <functional>
#include <optional>

#include "core/aggregate.h"
#include "sim/record/run_log.h"
#include "sim/train/client_training.h"

namespace fedglioma::sim {

struct Worker;

/// Trains `client` from `task` on `worker`; `round` keys its draws (data order, augmentation):
/// the round in a synchronous run, the client's participation number in an asynchronous one.
/// train_client in a run; tests inject clients that fail or return non-finite weights.
using ClientTrainer =
    std::function<ClientUpdate(Worker& worker, const ClientTask& task, std::size_t client, int round)>;

/// What a run does around training and aggregation, at fixed points of each round (or server
/// step): the same for the synchronous loop (sim/run/round_loop.h) and the asynchronous one
/// (sim/run/async_loop.h).
struct RoundHooks {
  /// Adds what the run knows to the round's record after aggregation (task log variances,
  /// simulated time). May be empty.
  std::function<void(RoundRecord& record, const FlatParams& global)> annotate;
  /// The round's evaluation, or nullopt when the round is not evaluated; `last`: the run's last
  /// round (always evaluated).
  std::function<std::optional<RoundEval>(int round, bool last)> evaluate;
  /// Reports the finished round (rounds.jsonl, the console, the history).
  std::function<void(const RoundRecord& record)> report;
  /// After the report: writes a checkpoint when one is due (always after the last round).
  std::function<void(int round, bool last)> checkpoint;
};

}  // namespace fedglioma::sim
