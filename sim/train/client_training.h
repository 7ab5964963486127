#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/aggregate.h"
#include "data/dataset.h"
#include "data/sample_store.h"
#include "sim/config/experiment_config.h"
#include "sim/train/client_hook.h"

namespace fedglioma::sim {

struct Worker;

/// What a client's update holds: its weights after training, or their difference from the
/// weights it started from (ClientTask::send).
enum class UpdateKind { kWeights, kDifference };

/// What a client returns after its local training: the update and what it says about itself
/// (which rate trained it, from which global model, how much it weighs), as MONAI's exchange
/// objects say whether they carry weights or weight differences.
struct ClientUpdate {
  FlatParams params;                         ///< the weights after training, or (kDifference) their change
  UpdateKind kind = UpdateKind::kWeights;
  std::int64_t base_version = 0;  ///< the global model's version it started from (ClientTask::model_version)
  double weight = 0.0;            ///< its aggregation weight: its training cases (FedAvg's n_k)
  std::size_t samples = 0;        ///< training cases it used
  double lr = 0.0;                ///< the learning rate it trained at (round_lr: SCAFFOLD's variates)
  double train_loss = 0.0;        ///< mean loss over its local steps
  std::int64_t steps = 0;          ///< optimizer steps taken (FedNova's tau)
  std::int64_t skipped_steps = 0;  ///< train.mixed_precision on CUDA: steps skipped for float16 overflow
  double io_wait_seconds = 0.0;  ///< time spent waiting for cases still being read from disk
  double seconds = 0.0;          ///< wall time of the whole local training
  std::string optimizer_state;   ///< train.keep_optimizer_state: the optimizer after training, serialised
  FlatParams personal;           ///< a personal pass's model (Ditto's); empty otherwise
};

/// What a client is asked to do in a round: where it starts, what the strategy adds to its
/// training (its hook), what it sends back.
struct ClientTask {
  FlatParams start;  ///< the weights the client starts from (the global model, or with its own layers)
  std::shared_ptr<ClientHook> hook;  ///< the strategy's client side (sim/train/client_hook.h); null: none
  UpdateKind send = UpdateKind::kWeights;
  std::int64_t model_version = 0;  ///< the version of the global model `start` comes from
  std::string optimizer_state;  ///< train.keep_optimizer_state: the client's saved optimizer; empty = a fresh one
};

/// The task weights of a client's loss: train.loss_weights, and with
/// train.positive_class_weights each marker's positives weighted by negatives / positives among
/// the client's own labelled cases (1 when it has only one class), and for 3-class grade each
/// grade by labelled / (3 x its count).
models::LossWeights client_loss_weights(const TrainConfig& train, const std::vector<const data::Sample*>& cases);

/// The learning rate of `round` (1-based) under train.lr_schedule over `rounds` rounds (federation.rounds):
/// constant; cosine from lr down towards lr_min; polynomial lr * (1 - (round-1)/rounds)^lr_power.
double round_lr(const TrainConfig& train, int round, int rounds);

/// Local training of one client on `worker` at learning rate `lr` (round_lr): loads `task.start`
/// into the worker's replica, runs `train.local_epochs` epochs of mini-batches with a fresh
/// optimizer (adam, adamw or sgd; or the client's kept one), calling `task.hook` at its points, and
/// returns the new weights (and, when the hook asks for a personal pass, the model it trains
/// after them). Data order and augmentation draw from generators seeded by (seed, round,
/// client), never from a global generator, so the result does not depend on the worker. The
/// whole local schedule is known up front, so its cases are read ahead of training (Prefetcher).
ClientUpdate train_client(Worker& worker, const ClientTask& task, const data::SampleStore& store,
                          const std::vector<const data::Sample*>& cases, const TrainConfig& train, double lr,
                          std::uint64_t seed, int round, std::size_t client);

}  // namespace fedglioma::sim
