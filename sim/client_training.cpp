#include "sim/client_training.h"

#include <torch/optim/adam.h>
#include <torch/optim/sgd.h>

#include <memory>

#include "core/random.h"
#include "models/multitask_loss.h"
#include "sim/batch.h"
#include "sim/executor.h"
#include "sim/model_state.h"

namespace fedglioma::sim {

ClientUpdate train_client(Worker& worker, const FlatParams& global, const std::vector<const data::Sample*>& cases,
                          const TrainConfig& train, std::uint64_t seed, int round, std::size_t client) {
  auto& model = worker.model;
  load_state(*model, global);
  model->train();
  std::unique_ptr<torch::optim::Optimizer> optimizer;
  if (train.optimizer == "sgd") {
    optimizer = std::make_unique<torch::optim::SGD>(
        model->parameters(),
        torch::optim::SGDOptions(train.lr).momentum(train.momentum).weight_decay(train.weight_decay));
  } else {
    optimizer = std::make_unique<torch::optim::Adam>(
        model->parameters(), torch::optim::AdamOptions(train.lr).weight_decay(train.weight_decay));
  }

  Rng order_rng(derive_seed(seed, static_cast<std::uint64_t>(round), client, RngPurpose::kDataOrder));
  Rng augment_rng(derive_seed(seed, static_cast<std::uint64_t>(round), client, RngPurpose::kAugment));
  ClientUpdate update;
  update.samples = cases.size();
  double loss_sum = 0.0;
  std::vector<std::size_t> order(cases.size());
  for (int epoch = 0; epoch < train.local_epochs; ++epoch) {
    for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
    order_rng.shuffle(order);
    for (std::size_t start = 0; start < order.size(); start += static_cast<std::size_t>(train.batch_size)) {
      std::vector<const data::Sample*> members;
      for (std::size_t i = start; i < std::min(order.size(), start + static_cast<std::size_t>(train.batch_size)); ++i)
        members.push_back(cases[order[i]]);
      const Batch batch = make_batch(members, worker.device, train.augment ? &augment_rng : nullptr);
      optimizer->zero_grad();
      const auto output = model->forward(batch.image);
      const auto loss = models::multitask_loss(output, batch.mask, batch.mask_known, batch.marker_target,
                                               batch.marker_known, train.loss_weights);
      loss.total.backward();
      optimizer->step();
      loss_sum += loss.total.item<double>();
      ++update.steps;
    }
  }
  update.train_loss = update.steps ? loss_sum / static_cast<double>(update.steps) : 0.0;
  update.params = flatten_state(*model);
  return update;
}

}  // namespace fedglioma::sim
