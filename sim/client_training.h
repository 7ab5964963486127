#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/aggregate.h"
#include "data/dataset.h"
#include "sim/experiment_config.h"

namespace fedglioma::sim {

struct Worker;

/// What a client returns after its local training.
struct ClientUpdate {
  FlatParams params;        ///< the client's model after local training
  std::size_t samples = 0;  ///< training cases it used (the FedAvg weight)
  double train_loss = 0.0;  ///< mean loss over its local steps
  std::int64_t steps = 0;
};

/// Local training of one client on `worker`: loads `global` into the worker's replica, runs
/// `train.local_epochs` epochs of mini-batches with a fresh optimizer (adam or sgd), and returns
/// the new weights. Data order and augmentation draw from generators seeded by (seed, round,
/// client), never from a global generator, so the result does not depend on the worker.
ClientUpdate train_client(Worker& worker, const FlatParams& global, const std::vector<const data::Sample*>& cases,
                          const TrainConfig& train, std::uint64_t seed, int round, std::size_t client);

}  // namespace fedglioma::sim
