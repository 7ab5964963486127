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
#include <memory>

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

// A flat buffer as one view per parameter, on `device` (parameters lead the flat buffer, in
// parameters() order); empty for an empty buffer. On the CPU the views alias `flat`, which must
// outlive them.
std::vector<torch::Tensor> per_parameter(const FlatParams& flat, const std::vector<torch::Tensor>& parameters,
                                         const c10::Device& device) {
  std::vector<torch::Tensor> views;
  if (flat.empty()) return views;
  std::int64_t count = 0;
  for (const auto& p : parameters) count += p.numel();
  const torch::Tensor all =
      torch::from_blob(const_cast<float*>(flat.data()), {count}, torch::kFloat32).to(device);
  std::int64_t offset = 0;
  for (const auto& p : parameters) {
    views.push_back(all.slice(0, offset, offset + p.numel()).view(p.sizes()));
    offset += p.numel();
  }
  return views;
}

// FedProx's proximal gradient mu (w - anchor) and SCAFFOLD's correction, added to the gradients.
void add_client_terms(const std::vector<torch::Tensor>& parameters, const std::vector<torch::Tensor>& anchor,
                      double mu, const std::vector<torch::Tensor>& correction) {
  if (anchor.empty() && correction.empty()) return;
  torch::NoGradGuard no_grad;
  for (std::size_t k = 0; k < parameters.size(); ++k) {
    torch::Tensor grad = parameters[k].mutable_grad();
    if (!grad.defined()) continue;
    if (!anchor.empty()) grad.add_(parameters[k].detach() - anchor[k], mu);
    if (!correction.empty()) grad.add_(correction[k]);
  }
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

}  // namespace

LabelCounts label_counts(const std::vector<const data::Sample*>& cases) {
  LabelCounts counts;
  for (const data::Sample* c : cases) {
    if (c->has_mask) ++counts.masks;
    bool any = false;
    for (std::size_t m = 0; m < counts.markers.size(); ++m)
      if (c->labels.binary(m)) {
        ++counts.markers[m];
        any = true;
      }
    if (any) ++counts.any_marker;
  }
  return counts;
}

namespace {

// FedRep's phases: which parameter elements an epoch trains. A frozen element's gradient is
// zeroed before each step and its value restored after it (so that momentum and weight decay do
// not move it either).
class PhaseFreeze {
 public:
  PhaseFreeze(const FlatRanges& head, int head_epochs, const std::vector<torch::Tensor>& parameters,
              const c10::Device& device)
      : parameters_(parameters), head_epochs_(head_epochs) {
    if (head.empty()) return;
    std::size_t count = 0;
    for (const auto& p : parameters) count += static_cast<std::size_t>(p.numel());
    FlatParams mask(count, 0.0f);
    for (const auto& [begin, end] : head)
      for (std::size_t i = begin; i < std::min(end, count); ++i) mask[i] = 1.0f;
    for (const torch::Tensor& view : per_parameter(mask, parameters, device)) head_mask_.push_back(view.clone());
  }
  /// Sets the phase of `epoch` and remembers the values it must keep.
  void begin_epoch(int epoch) {
    if (head_mask_.empty()) return;
    torch::NoGradGuard no_grad;
    const bool head_phase = epoch < head_epochs_;
    trainable_.clear();
    kept_.clear();
    for (std::size_t k = 0; k < parameters_.size(); ++k) {
      trainable_.push_back(head_phase ? head_mask_[k] : 1.0f - head_mask_[k]);
      kept_.push_back(parameters_[k].detach().clone());
    }
  }
  void mask_gradients() const {
    for (std::size_t k = 0; k < trainable_.size(); ++k)
      if (parameters_[k].mutable_grad().defined()) parameters_[k].mutable_grad().mul_(trainable_[k]);
  }
  void restore_frozen() const {
    torch::NoGradGuard no_grad;
    for (std::size_t k = 0; k < trainable_.size(); ++k)
      parameters_[k].copy_(torch::where(trainable_[k] > 0.5f, parameters_[k], kept_[k]));
  }

 private:
  const std::vector<torch::Tensor>& parameters_;
  std::vector<torch::Tensor> head_mask_, trainable_, kept_;
  int head_epochs_ = 0;
};

// One pass of local training from `from`, with the proximal term mu/2 ||w - anchor||^2 when mu > 0:
// the client's contribution to the global model, or Ditto's personal model.
struct Pass {
  const FlatParams& from;
  const FlatParams& anchor;
  double mu = 0.0;
  bool personal = false;  // Ditto's: no correction, phases or kept optimizer
};

ClientUpdate train_pass(Worker& worker, const ClientTask& task, const Pass& pass, const data::SampleStore& store,
                        const std::vector<const data::Sample*>& cases, const TrainConfig& train, double lr,
                        std::uint64_t seed, int round, std::size_t client) {
  const bool personal = pass.personal;
  auto& model = worker.model;
  load_state(*model, pass.from);
  model->train();
  const auto optimizer = make_optimizer(*model, train, lr, personal ? std::string() : task.optimizer_state);
  const std::vector<torch::Tensor> parameters = model->parameters();
  const auto anchor = pass.mu > 0 ? per_parameter(pass.anchor, parameters, worker.device) : std::vector<torch::Tensor>{};
  const auto correction = personal ? std::vector<torch::Tensor>{} : per_parameter(task.correction, parameters, worker.device);
  PhaseFreeze freeze(personal ? FlatRanges{} : task.head, task.head_epochs, parameters, worker.device);

  const auto draw = [&](RngPurpose purpose) { return derive_seed(seed, static_cast<std::uint64_t>(round), client, purpose); };
  Rng order_rng(draw(RngPurpose::kDataOrder)), augment_rng(draw(RngPurpose::kAugment));
  const std::size_t batch_size = static_cast<std::size_t>(train.batch_size);
  data::Prefetcher prefetcher(store, local_schedule(cases, train.local_epochs, order_rng), 2 * batch_size);
  const AugmentOptions augment = augment_options(train);
  const bool augmenting = train.augment || train.augment_gamma > 0 || train.augment_noise > 0 || train.patch_size[0] > 0;
  const models::LossWeights loss_weights = client_loss_weights(train, cases);
  // Dropout masks come from the client's own stream, whichever worker runs it.
  model->set_dropout_generator(at::detail::createCPUGenerator(draw(RngPurpose::kModelDropout)));
  GradScaler scaler(train.mixed_precision && worker.device.is_cuda());

  ClientUpdate update;
  update.samples = cases.size();
  update.lr = lr;
  update.labelled = label_counts(cases);
  // The loss is summed on the device, in double as the host did, and read once at the end: no
  // step waits for the device, so the host prepares the next batch while the device trains.
  torch::Tensor loss_sum = torch::zeros({}, torch::TensorOptions().dtype(torch::kDouble).device(worker.device));
  std::int64_t passes = 0;  // forward passes; update.steps counts the optimizer steps taken
  DeviceCases resident(worker.device);  // on CUDA each case is copied to the device once
  for (int epoch = 0; epoch < train.local_epochs; ++epoch) {
    freeze.begin_epoch(epoch);
    for (std::size_t first = 0; first < cases.size(); first += batch_size) {
      std::vector<CaseTensors> members;
      for (std::size_t i = first; i < std::min(cases.size(), first + batch_size); ++i)
        members.push_back(resident.get(prefetcher.next()));
      const Batch batch = make_batch(members, augmenting ? &augment_rng : nullptr, augment);
      optimizer->zero_grad();
      models::MultiTaskOutput output;
      {
        AutocastScope autocast(worker.device, train.mixed_precision);
        output = model->forward(batch.image);
      }
      const auto loss = models::multitask_loss(output, batch.targets, loss_weights);
      scaler.scale(loss.total).backward();
      loss_sum += loss.total.detach().to(torch::kDouble);
      ++passes;
      if (!scaler.unscale_and_update(parameters)) {
        ++update.skipped_steps;  // float16 overflow: this step is skipped, the scale halved
        continue;
      }
      add_client_terms(parameters, anchor, pass.mu, correction);
      freeze.mask_gradients();
      if (train.grad_clip > 0) torch::nn::utils::clip_grad_norm_(parameters, train.grad_clip);
      optimizer->step();
      freeze.restore_frozen();
      ++update.steps;
    }
  }
  model->set_dropout_generator(std::nullopt);
  update.io_wait_seconds = prefetcher.wait_seconds();
  update.train_loss = passes ? loss_sum.item<double>() / static_cast<double>(passes) : 0.0;
  update.params = flatten_state(*model);
  if (train.keep_optimizer_state && !personal) update.optimizer_state = serialize(*optimizer);
  return update;
}

}  // namespace

ClientUpdate train_client(Worker& worker, const ClientTask& task, const data::SampleStore& store,
                          const std::vector<const data::Sample*>& cases, const TrainConfig& train, double lr,
                          std::uint64_t seed, int round, std::size_t client) {
  const auto start = std::chrono::steady_clock::now();
  ClientUpdate update =
      train_pass(worker, task, {task.start, task.start, task.prox_mu}, store, cases, train, lr, seed, round, client);
  if (!task.personal_start.empty()) {
    // Ditto's personal model sees the same data order and augmentation draws as the global pass
    // (and as local mode), so lambda = 0 is local training exactly.
    ClientUpdate personal = train_pass(worker, task, {task.personal_start, task.start, task.personal_lambda, true}, store,
                                       cases, train, lr, seed, round, client);
    update.personal = std::move(personal.params);
    update.io_wait_seconds += personal.io_wait_seconds;
  }
  update.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return update;
}

}  // namespace fedglioma::sim
