#pragma once

#include <cstddef>
#include <functional>
#include <string>
#include <vector>

#include "core/aggregate.h"
#include "sim/train/client_training.h"

namespace fedglioma::sim {

class Executor;
class Processes;
struct Worker;

/// eval.finetune_epochs: before an evaluation, every client fine-tunes the model it deploys on its
/// own training cases (FLamby's fine-tuned FedAvg baseline). `train(worker, client)` trains one
/// client; this process trains the clients it owns on `executor` and every process receives
/// every client's model. The fine-tuned models are evaluation's only: they never reach the global
/// model, and are recomputed at each evaluation (from the global model, so a resumed run
/// recomputes the same ones). Throws the first client's error.
std::vector<FlatParams> finetune_clients(const std::vector<std::string>& client_ids, Executor& executor, Processes& processes,
                                         const std::function<ClientUpdate(Worker& worker, std::size_t client)>& train,
                                         int round);

}  // namespace fedglioma::sim
