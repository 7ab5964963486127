#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "core/aggregate.h"
#include "data/dataset.h"
#include "data/sample_store.h"
#include "sim/config/experiment_config.h"

namespace fedglioma::sim {

struct Worker;

/// How many of a client's training cases label each task: label-aware aggregation's weights.
struct LabelCounts {
  std::size_t masks = 0;       ///< cases with a whole-tumour mask
  std::size_t any_marker = 0;  ///< cases with at least one marker label
  std::array<std::size_t, 4> markers{};  ///< cases labelled for each marker, kMarkers order

  bool operator==(const LabelCounts& o) const {
    return masks == o.masks && any_marker == o.any_marker && markers == o.markers;
  }
};

LabelCounts label_counts(const std::vector<const data::Sample*>& cases);

/// What a client returns after its local training.
struct ClientUpdate {
  FlatParams params;        ///< the client's model after local training
  std::size_t samples = 0;  ///< training cases it used (the FedAvg weight)
  LabelCounts labelled;     ///< what those cases label (federation.strategy.label_aware's weights)
  double train_loss = 0.0;  ///< mean loss over its local steps
  std::int64_t steps = 0;          ///< optimizer steps taken (FedNova's tau)
  double lr = 0.0;                 ///< the learning rate it trained at (round_lr: SCAFFOLD's variates)
  std::int64_t skipped_steps = 0;  ///< train.mixed_precision on CUDA: steps skipped for float16 overflow
  double io_wait_seconds = 0.0;  ///< time spent waiting for cases still being read from disk
  double seconds = 0.0;          ///< wall time of the whole local training
  std::string optimizer_state;   ///< train.keep_optimizer_state: the optimizer after training, serialised
  FlatParams personal;           ///< Ditto: the client's personal model after this round; empty otherwise
};

/// What a strategy asks of one client in a round, beyond plain local training.
struct ClientTask {
  FlatParams start;       ///< the weights the client starts from (the global model, or with its own norm layers)
  double prox_mu = 0.0;   ///< FedProx: adds mu/2 * ||w - start||^2 to the local objective
  FlatParams correction;  ///< SCAFFOLD: c - c_i, added to every parameter's gradient; empty = none
  std::string optimizer_state;  ///< train.keep_optimizer_state: the client's saved optimizer; empty = a fresh one
  /// FedRep: the flat ranges of the client's head (its local parameter groups). The first
  /// `head_epochs` epochs train only the head, the remaining ones everything else; empty: every
  /// epoch trains every parameter.
  FlatRanges head;
  int head_epochs = 0;
  /// Ditto: after its contribution to the global model, the client trains its personal model from
  /// `personal_start` for the same epochs (and the same data order) with
  /// personal_lambda/2 * ||v - start||^2 added to its loss; empty = no personal model.
  FlatParams personal_start;
  double personal_lambda = 0.0;
};

/// The task weights of a client's loss: train.loss_weights, and with
/// train.positive_class_weights each marker's positives weighted by negatives / positives among
/// the client's own labelled cases (1 when it has only one class), and for 3-class grade each
/// grade by labelled / (3 x its count).
models::LossWeights client_loss_weights(const TrainConfig& train, const std::vector<const data::Sample*>& cases);

/// The learning rate of `round` (1-based) under train.lr_schedule over `rounds` rounds (federation.rounds):
/// constant; cosine from lr down towards lr_min; polynomial lr * (1 - (round-1)/rounds)^lr_power.
double round_lr(const TrainConfig& train, int round, int rounds);

/// Local training of one client on `worker` at learning rate `lr` (round_lr): loads `task.start` into the worker's replica, runs
/// `train.local_epochs` epochs of mini-batches with a fresh optimizer (adam or sgd), and returns
/// the new weights (and, with task.personal_start, the personal model trained after them). Data order and augmentation draw from generators seeded by (seed, round,
/// client), never from a global generator, so the result does not depend on the worker. The
/// whole local schedule is known up front, so its cases are read ahead of training (Prefetcher).
ClientUpdate train_client(Worker& worker, const ClientTask& task, const data::SampleStore& store,
                          const std::vector<const data::Sample*>& cases, const TrainConfig& train, double lr,
                          std::uint64_t seed, int round, std::size_t client);

}  // namespace fedglioma::sim
