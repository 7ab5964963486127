#include "experiments/config_shape.h"

#include <nlohmann/json.hpp>

#include "sim/strategy_registry.h"

namespace fedglioma::experiments {
namespace {

using nlohmann::json;

// A strategy's name and only the parameters it has (sim/strategy_registry.h), so that a
// parameter of another strategy is an unknown key.
json strategy_json(const sim::StrategyConfig& s) {
  json out = {{"name", s.name}};
  for (const sim::StrategyParam& p : sim::strategy_entry(s.name).params) {
    const double value = s.params.count(p.key) ? s.params.at(p.key) : p.default_value;
    if (p.integer) out[p.key] = static_cast<std::int64_t>(value);
    else out[p.key] = value;
  }
  return out;
}

}  // namespace

json config_to_json(const sim::ExperimentConfig& c) {
  const auto& w = c.train.loss_weights;
  return {
      {"data",
       {{"manifest", c.data.manifest},
        {"size", c.data.size},
        {"spacing", c.data.spacing},
        {"on_geometry_mismatch", c.data.on_geometry_mismatch},
        {"cache_dir", c.data.cache_dir},
        {"cache_ram_gb", c.data.cache_ram_gb}}},
      {"partition",
       {{"scheme", c.partition.scheme},
        {"num_clients", c.partition.num_clients},
        {"label", c.partition.label},
        {"alpha", c.partition.alpha},
        {"val_fraction", c.partition.val_fraction}}},
      {"model",
       {{"name", c.model.name},
        {"depth", c.model.depth},
        {"base_channels", c.model.base_channels},
        {"max_channels", c.model.max_channels},
        {"norm", c.model.norm},
        {"grade_classes", c.model.grade_classes},
        {"head_hidden", c.model.head_hidden},
        {"tumour_pooling", c.model.tumour_pooling},
        {"head_features", c.model.head_features},
        {"dropout", c.model.dropout},
        {"task_uncertainty", c.model.task_uncertainty}}},
      {"train",
       {{"local_epochs", c.train.local_epochs},
        {"batch_size", c.train.batch_size},
        {"optimizer", c.train.optimizer},
        {"lr", c.train.lr},
        {"momentum", c.train.momentum},
        {"nesterov", c.train.nesterov},
        {"lr_schedule", c.train.lr_schedule},
        {"lr_min", c.train.lr_min},
        {"lr_power", c.train.lr_power},
        {"grad_clip", c.train.grad_clip},
        {"weight_decay", c.train.weight_decay},
        {"augment", c.train.augment},
        {"augment_gamma", c.train.augment_gamma},
        {"augment_noise", c.train.augment_noise},
        {"patch_size", c.train.patch_size},
        {"oversample_tumour", c.train.oversample_tumour},
        {"positive_class_weights", c.train.positive_class_weights},
        {"keep_optimizer_state", c.train.keep_optimizer_state},
        {"mixed_precision", c.train.mixed_precision},
        {"loss_weights",
         {{"mask", w.mask},
          {"idh", w.markers[0]},
          {"codeletion_1p19q", w.markers[1]},
          {"mgmt", w.markers[2]},
          {"grade", w.markers[3]}}}}},
      {"federation",
       {{"mode", c.federation.mode},
        {"rounds", c.federation.rounds},
        {"clients_per_round", c.federation.clients_per_round},
        {"min_clients", c.federation.min_clients},
        {"below_min_clients", c.federation.below_min_clients},
        {"dropout", c.federation.dropout},
        {"strategy", strategy_json(c.federation.strategy)},
        {"simulated_time",
         {{"enabled", c.federation.simulated_time.enabled},
          {"samples_per_second", c.federation.simulated_time.samples_per_second},
          {"megabits_per_second", c.federation.simulated_time.megabits_per_second},
          {"site_samples_per_second", c.federation.simulated_time.site_samples_per_second},
          {"site_megabits_per_second", c.federation.simulated_time.site_megabits_per_second}}}}},
      {"eval", {{"every", c.eval.every}}},
      {"runtime",
       {{"devices", c.runtime.devices},
        {"workers", c.runtime.workers},
        {"threads_per_worker", c.runtime.threads_per_worker},
        {"seed", c.runtime.seed},
        {"checkpoint_every", c.runtime.checkpoint_every},
        {"client_state_ram_gb", c.runtime.client_state_ram_gb},
        {"cpu_numerics", c.runtime.cpu_numerics},
        {"deterministic", c.runtime.deterministic}}},
  };
}

}  // namespace fedglioma::experiments
