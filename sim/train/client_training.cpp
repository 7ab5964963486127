#include "sim/train/client_training.h"

#include <ATen/CPUGeneratorImpl.h>
#include <torch/nn/utils/clip_grad.h>
#include <torch/optim/adam.h>
#include <torch/optim/adamw.h>
#include <torch/optim/sgd.h>
#include <torch/serialize/input-archive.h>
#include <torch/serialize/output-archive.h>

#include <chrono>
#include <sstream>
#include <cmath>
#include <functional>
#include <memory>
#include <optional>

#include "core/random.h"
#include "models/model.h"
#include "models/multitask_loss.h"
#include "sim/train/batch.h"
#include "sim/train/case_tensors.h"
#include "sim/workers/executor.h"
#include "sim/train/mixed_precision.h"
#include "sim/state/model_state.h"

namespace fedglioma::sim {

models::LossWeights client_loss_weights(const TrainConfig& train, const std::vector<const data::Sample*>& cases) {
  models::LossWeights weights = train.loss_weights;
  if (!train.positive_class_weights) return weights;
  for (std::size_t m = 0; m < weights.positive.size(); ++m) {
    double positives = 0, negatives = 0;
    for (const data::Sample* s : cases)
      if (const auto y = s->labels.binary(m)) (*y ? positives : negatives) += 1;
    weights.positive[m] = positives > 0 && negatives > 0 ? negatives / positives : 1.0;
  }
  // 3-class grade: each grade weighted by labelled / (3 x its count) (scikit-learn's "balanced").
  std::array<double, 3> count{};
  for (const data::Sample* s : cases)
    if (s->labels.grade) count[static_cast<std::size_t>(*s->labels.grade - 2)] += 1;
  const double labelled = count[0] + count[1] + count[2];
  for (std::size_t c = 0; c < 3; ++c) weights.grade_class[c] = count[c] > 0 ? labelled / (3.0 * count[c]) : 1.0;
  return weights;
}

double round_lr(const TrainConfig& train, int round, int rounds) {
  const double progress = rounds > 1 ? static_cast<double>(round - 1) / static_cast<double>(rounds) : 0.0;
  if (train.lr_schedule == "cosine")
    return train.lr_min + 0.5 * (train.lr - train.lr_min) * (1.0 + std::cos(M_PI * progress));
  if (train.lr_schedule == "polynomial") return train.lr * std::pow(1.0 - progress, train.lr_power);
  return train.lr;
}

namespace {

// The client's optimizer over `model` at `lr`; a client that keeps its optimizer continues from
// its own moments (`saved`, serialised bytes).
std::unique_ptr<torch::optim::Optimizer> make_optimizer(models::Model& model, const TrainConfig& train,
                                                        double lr, const std::string& saved) {
  std::unique_ptr<torch::optim::Optimizer> optimizer;
  if (train.optimizer == "sgd") {
    optimizer = std::make_unique<torch::optim::SGD>(
        model.parameters(), torch::optim::SGDOptions(lr)
                                 .momentum(train.momentum)
                                 .nesterov(train.nesterov && train.momentum > 0)
                                 .weight_decay(train.weight_decay));
  } else if (train.optimizer == "adamw") {
    optimizer = std::make_unique<torch::optim::AdamW>(
        model.parameters(), torch::optim::AdamWOptions(lr).weight_decay(train.weight_decay));
  } else {
    optimizer = std::make_unique<torch::optim::Adam>(
        model.parameters(), torch::optim::AdamOptions(lr).weight_decay(train.weight_decay));
  }
  if (!saved.empty()) {
    std::istringstream bytes(saved);
    torch::serialize::InputArchive archive;
    archive.load_from(bytes);
    optimizer->load(archive);
  }
  return optimizer;
}

std::string serialize(torch::optim::Optimizer& optimizer) {
  torch::serialize::OutputArchive archive;
  optimizer.save(archive);
  std::ostringstream bytes;
  archive.save_to(bytes);
  return bytes.str();
}

// Every epoch's order, drawn up front (the same draws as epoch by epoch), so that the reads of
// the whole schedule can run ahead of training.
std::vector<const data::Sample*> local_schedule(const std::vector<const data::Sample*>& cases, int epochs,
                                                Rng& order_rng) {
  std::vector<const data::Sample*> schedule;
  std::vector<std::size_t> order(cases.size());
  for (int epoch = 0; epoch < epochs; ++epoch) {
    for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
    order_rng.shuffle(order);
    for (std::size_t i : order) schedule.push_back(cases[i]);
  }
  return schedule;
}

AugmentOptions augment_options(const TrainConfig& train) {
  AugmentOptions augment;
  augment.flips_and_intensity = train.augment;
  augment.gamma = train.augment_gamma;
  augment.noise = train.augment_noise;
  augment.patch = train.patch_size;
  augment.oversample_tumour = train.oversample_tumour;
  return augment;
}

// What a pass draws from: the client's read-ahead schedule, its augmentation generator and its
// loss weights. Data order and augmentation come from (seed, round, client), whichever worker
// trains it; a second (personal) pass draws the same.
struct PassDraws {
  PassDraws(const data::SampleStore& store, const std::vector<const data::Sample*>& cases, const TrainConfig& train,
            const std::function<std::uint64_t(RngPurpose)>& draw)
      : order_rng(draw(RngPurpose::kDataOrder)),
        augment_rng(draw(RngPurpose::kAugment)),
        prefetcher(store, local_schedule(cases, train.local_epochs, order_rng), 2 * static_cast<std::size_t>(train.batch_size)),
        augment(augment_options(train)),
        augmenting(train.augment || train.augment_gamma > 0 || train.augment_noise > 0 || train.patch_size[0] > 0),
        loss_weights(client_loss_weights(train, cases)) {}
  Rng order_rng, augment_rng;
  data::Prefetcher prefetcher;
  AugmentOptions augment;
  bool augmenting;
  models::LossWeights loss_weights;
};

// One optimizer step on the next batch of `draws` (the cases [first, first + size)). Returns
// whether the step was taken (false: a float16 overflow skipped it). The loss is summed on the
// device and read once at the end: no step waits for the device.
bool train_step(Worker& worker, torch::optim::Optimizer& optimizer, const std::vector<torch::Tensor>& parameters,
                ClientHook& hook, PassDraws& draws, DeviceCases& resident, std::size_t size, const TrainConfig& train,
                GradScaler& scaler, torch::Tensor& loss_sum) {
  std::vector<CaseTensors> members;
  for (std::size_t i = 0; i < size; ++i) members.push_back(resident.get(draws.prefetcher.next()));
  const Batch batch = make_batch(members, draws.augmenting ? &draws.augment_rng : nullptr, draws.augment);
  optimizer.zero_grad();
  models::MultiTaskOutput output;
  {
    AutocastScope autocast(worker.device, train.mixed_precision);
    output = worker.model->forward(batch.image);
  }
  const auto loss = models::multitask_loss(output, batch.targets, draws.loss_weights);
  scaler.scale(loss.total).backward();
  loss_sum += loss.total.detach().to(torch::kDouble);
  if (!scaler.unscale_and_update(parameters)) return false;  // the scale halves; this step is skipped
  hook.adjust_gradients();
  if (train.grad_clip > 0) torch::nn::utils::clip_grad_norm_(parameters, train.grad_clip);
  optimizer.step();
  hook.after_step();
  return true;
}

// One pass of local training from `from`, with `hook` at its points: the client's contribution
// to the global model, or its personal pass. `saved`: the kept optimizer (empty: a fresh one).
ClientUpdate train_pass(Worker& worker, const FlatParams& from, ClientHook& hook, const std::string& saved,
                        const data::SampleStore& store, const std::vector<const data::Sample*>& cases,
                        const TrainConfig& train, double lr, std::uint64_t seed, int round, std::size_t client) {
  auto& model = worker.model;
  load_state(*model, from);
  model->train();
  const auto optimizer = make_optimizer(*model, train, lr, saved);
  const std::vector<torch::Tensor> parameters = model->parameters();
  hook.begin(parameters, worker.device);
  const auto draw = [&](RngPurpose purpose) { return derive_seed(seed, static_cast<std::uint64_t>(round), client, purpose); };
  PassDraws draws(store, cases, train, draw);
  // Dropout masks come from the client's own stream, whichever worker runs it.
  model->set_dropout_generator(at::detail::createCPUGenerator(draw(RngPurpose::kModelDropout)));
  GradScaler scaler(train.mixed_precision && worker.device.is_cuda());
  ClientUpdate update;
  torch::Tensor loss_sum = torch::zeros({}, torch::TensorOptions().dtype(torch::kDouble).device(worker.device));
  std::int64_t passes = 0;  // forward passes; update.steps counts the optimizer steps taken
  DeviceCases resident(worker.device);  // on CUDA each case is copied to the device once
  const std::size_t batch_size = static_cast<std::size_t>(train.batch_size);
  for (int epoch = 0; epoch < train.local_epochs; ++epoch) {
    hook.begin_epoch(epoch);
    for (std::size_t first = 0; first < cases.size(); first += batch_size, ++passes) {
      const std::size_t size = std::min(cases.size(), first + batch_size) - first;
      if (train_step(worker, *optimizer, parameters, hook, draws, resident, size, train, scaler, loss_sum)) ++update.steps;
      else ++update.skipped_steps;
    }
  }
  model->set_dropout_generator(std::nullopt);
  update.io_wait_seconds = draws.prefetcher.wait_seconds();
  update.train_loss = passes ? loss_sum.item<double>() / static_cast<double>(passes) : 0.0;
  update.params = flatten_state(*model);
  if (train.keep_optimizer_state) update.optimizer_state = serialize(*optimizer);
  return update;
}

}  // namespace

ClientUpdate train_client(Worker& worker, const ClientTask& task, const data::SampleStore& store,
                          const std::vector<const data::Sample*>& cases, const TrainConfig& train, double lr,
                          std::uint64_t seed, int round, std::size_t client) {
  const auto start = std::chrono::steady_clock::now();
  ClientHook none;
  ClientHook& hook = task.hook ? *task.hook : none;
  ClientUpdate update = train_pass(worker, task.start, hook, task.optimizer_state, store, cases, train, lr, seed, round, client);
  if (const std::optional<PersonalPass> personal = hook.personal_pass()) {
    // The personal pass sees the first pass's data order and augmentation draws (and local
    // mode's), with a fresh optimizer, so Ditto with lambda 0 is local training exactly.
    TrainConfig fresh = train;
    fresh.keep_optimizer_state = false;
    ClientHook& own = personal->hook ? *personal->hook : none;
    ClientUpdate model = train_pass(worker, personal->start, own, "", store, cases, fresh, lr, seed, round, client);
    update.personal = std::move(model.params);
    update.io_wait_seconds += model.io_wait_seconds;
  }
  update.kind = task.send;
  if (task.send == UpdateKind::kDifference)
    for (std::size_t i = 0; i < update.params.size(); ++i) update.params[i] -= task.start[i];
  update.base_version = task.model_version;
  update.samples = cases.size();
  update.weight = static_cast<double>(cases.size());
  update.lr = lr;
  update.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return update;
}

}  // namespace fedglioma::sim
