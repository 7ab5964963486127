#include "experiments/config_schema.h"

#include <nlohmann/json.hpp>

#include <cmath>
#include <cstdio>
#include <set>

#include "core/atomic_file.h"
#include "core/error.h"
#include "core/hash.h"
#include "data/manifest.h"
#include "experiments/config_reader.h"
#include "experiments/config_schema_parts.h"
#include "models/model_factory.h"
#include "sim/strategy/strategy_registry.h"

namespace fedglioma::experiments {

using nlohmann::json;
using sim::ExperimentConfig;

std::string json_type_name(const json& v) {
  if (v.is_number_integer()) return "an integer";
  if (v.is_number()) return "a number";
  return std::string("a ") + v.type_name();
}

namespace {

#define MEMBER(path) [](auto& c) -> auto& { return c.path; }

using namespace config_fields;

ConfigField grid_size() {
  return {"data.size", "network grid, voxels (i, j, k); one integer means a cube; divisible by 2^(depth-1)",
          [](const ConfigReader& r, ExperimentConfig& c) {
            c.data.size = triple<std::int64_t>(r, "data.size", "[i, j, k] voxels or one integer", [&](const json& e) {
              if (!e.is_number_integer() || e.get<std::int64_t>() < 8 || e.get<std::int64_t>() > 1024)
                throw ConfigError("data.size: expected three integers in [8, 1024], got " + r.at("data.size").dump());
              return e.get<std::int64_t>();
            });
          },
          [](const ExperimentConfig& c) { return json(c.data.size); }};
}

ConfigField grid_spacing() {
  return {"data.spacing", "network grid spacing, mm (one number for all axes); with the default size, 192 mm a side",
          [](const ConfigReader& r, ExperimentConfig& c) {
            c.data.spacing = triple<double>(r, "data.spacing", "[i, j, k] mm or one number", [&](const json& e) {
              if (!e.is_number() || !(e.get<double>() >= 0.01 && e.get<double>() <= 100.0))
                throw ConfigError("data.spacing: expected three numbers in [0.01, 100] mm, got " + r.at("data.spacing").dump());
              return e.get<double>();
            });
          },
          [](const ExperimentConfig& c) { return json(c.data.spacing); }};
}

// What data.size and train.patch_size must be divisible by: the U-Net's 2^(depth-1); a TorchScript
// network's own size_multiple is checked when the run builds it.
std::int64_t depth_factor(const ExperimentConfig& c) {
  return c.model.name == "torchscript" ? 1 : std::int64_t{1} << (c.model.depth - 1);
}

ConfigField model_depth() {
  return {"model.depth", "resolution levels of the U-Net",
          [](const ConfigReader& r, ExperimentConfig& c) {
            c.model.depth = r.integer("model.depth", 1, 7);
            for (std::int64_t edge : c.data.size)
              if (edge % depth_factor(c) != 0)
                throw ConfigError("data.size: " + std::to_string(edge) + " is not divisible by 2^(model.depth-1) = " +
                                  std::to_string(depth_factor(c)));
          },
          [](const ExperimentConfig& c) { return json(c.model.depth); }};
}

ConfigField max_channels() {
  return {"model.max_channels", "cap on channels per level (at least base_channels)",
          [](const ConfigReader& r, ExperimentConfig& c) {
            c.model.max_channels = r.integer("model.max_channels", c.model.base_channels, 4096);
          },
          [](const ExperimentConfig& c) { return json(c.model.max_channels); }};
}

ConfigField patch_size() {
  return {"train.patch_size",
          "train on random patches of this many voxels (one integer or [i, j, k]; within `data.size`, divisible by "
          "2^(depth-1)); `0`: whole volumes. Evaluation always sees whole volumes",
          [](const ConfigReader& r, ExperimentConfig& c) {
            const json& patch = r.at("train.patch_size");
            if ((patch.is_number_integer() && patch.get<std::int64_t>() == 0) || patch == json::array({0, 0, 0})) {
              c.train.patch_size = {0, 0, 0};
              return;
            }
            if (!patch.is_number_integer() && !(patch.is_array() && patch.size() == 3))
              throw ConfigError("train.patch_size: expected 0 (whole volume), one integer or [i, j, k], got " + patch.dump());
            const std::int64_t factor = depth_factor(c);
            for (std::size_t d = 0; d < 3; ++d) {
              const json& edge = patch.is_array() ? patch[d] : patch;
              if (!edge.is_number_integer() || edge.get<std::int64_t>() < factor ||
                  edge.get<std::int64_t>() > c.data.size[d] || edge.get<std::int64_t>() % factor != 0)
                throw ConfigError("train.patch_size: " + patch.dump() + " must be within data.size " +
                                  json(c.data.size).dump() + " and divisible by 2^(model.depth-1) = " + std::to_string(factor));
              c.train.patch_size[d] = edge.get<std::int64_t>();
            }
          },
          [](const ExperimentConfig& c) { return json(c.train.patch_size); }};
}

std::vector<ConfigField> data_fields() {
  return {
      text("data.manifest", MEMBER(data.manifest), {}, "manifest; a relative path written in a config file is relative to that file's folder, one given "
           "with `--set` relative to the working directory (config.resolved.json holds it absolute)"),
      grid_size(),
      grid_spacing(),
      text("data.on_geometry_mismatch", MEMBER(data.on_geometry_mismatch), {"error", "resample"},
           "modalities on different grids: `error`, or `resample` onto the T1 grid"),
      text("data.cache_dir", MEMBER(data.cache_dir), {},
           "preprocessed-case cache (a relative path as for `data.manifest`; the default is relative to the working "
           "directory); `\"\"` disables it"),
      number("data.cache_ram_gb", MEMBER(data.cache_ram_gb), 1e-6, 1e6, "RAM budget for a run's preprocessed cases"),
      text("partition.scheme", MEMBER(partition.scheme), {"natural", "iid", "dirichlet", "quantity"},
           "`natural` (one client per site), `iid`, `dirichlet` or `quantity` (see "
           "[Partitions](#partitions-sampling-and-failures))"),
      integer("partition.num_clients", MEMBER(partition.num_clients), 1, 100000,
              "clients of the `iid`, `dirichlet` and `quantity` schemes"),
      text("partition.label", MEMBER(partition.label), {data::kMarkers.begin(), data::kMarkers.end()},
           "`dirichlet`: the marker whose classes are skewed across clients"),
      number("partition.alpha", MEMBER(partition.alpha), 1e-6, 1e6,
             "`dirichlet`, `quantity`: Dirichlet concentration (smaller = more skewed)"),
      number("partition.val_fraction", MEMBER(partition.val_fraction), 0.0, 0.9,
             "share of each client's training cases held out for validation (seeded)"),
  };
}

// The keys of the built-in network, which a TorchScript network's config must leave at their defaults.
void check_builtin_keys_unset(const sim::ExperimentConfig& c) {
  const models::ModelConfig d;
  const models::ModelConfig& m = c.model;
  const std::pair<const char*, bool> keys[] = {
      {"depth", m.depth != d.depth},           {"base_channels", m.base_channels != d.base_channels},
      {"max_channels", m.max_channels != d.max_channels}, {"norm", m.norm != d.norm},
      {"dropout", m.dropout != d.dropout},     {"task_uncertainty", m.task_uncertainty != d.task_uncertainty},
      {"head_hidden", m.head_hidden != d.head_hidden}, {"tumour_pooling", m.tumour_pooling != d.tumour_pooling},
      {"head_features", m.head_features != d.head_features}};
  for (const auto& [key, set] : keys)
    if (set)
      throw ConfigError(std::string("model.") + key + ": applies to multitask_unet3d, not to a TorchScript network "
                        "(model.name \"torchscript\": its file defines the architecture)");
}

ConfigField model_path() {
  return {"model.path",
          "`torchscript`: the scripted network's file (torch.jit.save; a relative path as for `data.manifest`; see "
          "docs/model.md, \"Bring your own network\")",
          [](const ConfigReader& r, ExperimentConfig& c) {
            c.model.path = r.text("model.path");
            if (c.model.name != "torchscript") {
              if (!c.model.path.empty()) throw ConfigError("model.path: only for model.name \"torchscript\"");
              return;
            }
            if (c.model.path.empty())
              throw ConfigError("model.path: model.name \"torchscript\" needs the scripted network's file");
            check_builtin_keys_unset(c);
          },
          [](const ExperimentConfig& c) { return json(c.model.path); }};
}

ConfigField model_fingerprint() {
  return {"model.fingerprint",
          "`torchscript`: FNV-1a 64 of `model.path`'s bytes, hex; config.resolved.json records it, and when it is "
          "given the file must still match (a resumed run, `evaluate` or `predict` refuse a changed network)",
          [](const ConfigReader& r, ExperimentConfig& c) {
            const std::string recorded = r.text("model.fingerprint");
            if (c.model.name != "torchscript") {
              if (!recorded.empty()) throw ConfigError("model.fingerprint: only for model.name \"torchscript\"");
              return;
            }
            std::string bytes;
            try {
              bytes = read_file(c.model.path);
            } catch (const std::exception& e) {
              throw ConfigError("model.path: cannot read the TorchScript network '" + c.model.path + "' (" + e.what() + ")");
            }
            c.model.fingerprint = hex64(fnv1a(bytes));
            if (!recorded.empty() && recorded != c.model.fingerprint)
              throw ConfigError("model.fingerprint: '" + c.model.path + "' has changed since the config recorded it "
                                "(its fingerprint is now " + c.model.fingerprint + ", recorded " + recorded + ")");
          },
          [](const ExperimentConfig& c) { return json(c.model.fingerprint); }};
}

std::vector<ConfigField> model_fields() {
  return {
      registered("model.name", MEMBER(model.name), models::model_names,
           "the network, built by `models/model_factory`: `multitask_unet3d`, or `torchscript` (your own, from "
           "`model.path`; see [Extending](#extending))"),
      model_depth(),
      integer("model.base_channels", MEMBER(model.base_channels), 1, 1024, "channels of level 0; level l has base * 2^l"),
      max_channels(),
      text("model.norm", MEMBER(model.norm), {"instance", "group", "batch"}, "`instance`, `group` or `batch` normalisation"),
      integer("model.grade_classes", MEMBER(model.grade_classes), 2, 3,
              "`2`: grade as high (4) vs low (2-3), one logit and BCE; `3`: WHO grade 2 / 3 / 4, three logits and "
              "cross-entropy (`p_grade` stays P(grade 4); the macro one-vs-rest AUC is logged as `grade_3class`)"),
      number("model.dropout", MEMBER(model.dropout), 0.0, 0.95,
             "dropout probability on the marker MLP's inputs and hidden units while training; the masks come from each "
             "client's own generator (seed, round, client), so runs stay identical whatever the worker count"),
      boolean("model.task_uncertainty", MEMBER(model.task_uncertainty),
              "learn the task weights (Kendall, Gal and Cipolla 2018): a parameter `task_log_variance` s_t per task "
              "(mask, IDH, 1p/19q, MGMT, grade), loss sum_t w_t (exp(-s_t) L_t + s_t / 2), the s_t term counted only "
              "when the batch has labels for task t; aggregated like every other weight"),
      integer("model.head_hidden", MEMBER(model.head_hidden), 1, 4096, "width of the shared marker MLP"),
      boolean("model.tumour_pooling", MEMBER(model.tumour_pooling),
              "marker heads also see the bottleneck averaged over the predicted tumour"),
      text("model.head_features", MEMBER(model.head_features), {"bottleneck", "all_levels"},
           "marker heads pool (average + max) the `bottleneck`, or `all_levels` of the encoder (van der Voort et al. 2023)"),
      text("model.segmentation", MEMBER(model.segmentation), {"whole_tumour", "brats_regions"},
           "`whole_tumour` (the study: one mask output) or `brats_regions`: three outputs, whole tumour, tumour core "
           "and enhancing tumour, trained region-based as nnU-Net does for BraTS; cases whose label convention has no "
           "sub-regions train the whole tumour only (see [docs/model.md](model.md#brats-sub-regions))"),
      model_path(),
      model_fingerprint(),
  };
}

std::vector<ConfigField> train_fields() {
  std::vector<ConfigField> f = {
      integer("train.local_epochs", MEMBER(train.local_epochs), 1, 1000, "epochs over its cases a client runs per round"),
      integer("train.batch_size", MEMBER(train.batch_size), 1, 4096, "cases per step"),
      text("train.optimizer", MEMBER(train.optimizer), {"adam", "adamw", "sgd"},
           "`adam`, `adamw` or `sgd` (a fresh optimizer per client and round unless `keep_optimizer_state`)"),
      number("train.lr", MEMBER(train.lr), 1e-12, 10.0, "learning rate (of round 1 under a schedule)"),
      text("train.lr_schedule", MEMBER(train.lr_schedule), {"constant", "cosine", "polynomial"},
           "over the rounds: `constant`, `cosine` (from `lr` towards `lr_min`) or `polynomial` "
           "(`lr * (1 - (round-1)/rounds)^lr_power`)"),
      number("train.lr_min", MEMBER(train.lr_min), 0.0, 10.0, "cosine: the rate it decays towards"),
      number("train.lr_power", MEMBER(train.lr_power), 0.0, 100.0, "polynomial: the exponent"),
      number("train.grad_clip", MEMBER(train.grad_clip), 0.0, 1e9, "clip each step's gradient to this L2 norm (`0`: no clipping)"),
      number("train.momentum", MEMBER(train.momentum), 0.0, 0.999999, "SGD momentum"),
      boolean("train.nesterov", MEMBER(train.nesterov), "SGD: Nesterov momentum"),
      number("train.weight_decay", MEMBER(train.weight_decay), 0.0, 1.0, "L2 weight decay"),
      boolean("train.augment", MEMBER(train.augment),
              "random flips along each axis and per-channel intensity scale (x0.85-1.15) and shift (+-0.15 sd) inside "
              "the brain, drawn from the client's generator"),
      number("train.augment_gamma", MEMBER(train.augment_gamma), 0.0, 1.0,
             "probability, per channel, of a gamma transform (gamma in U(0.7, 1.5), on the channel rescaled to [0, 1] "
             "inside the brain)"),
      number("train.augment_noise", MEMBER(train.augment_noise), 0.0, 1.0,
             "probability, per case, of Gaussian noise (sd in U(0, 0.1)) inside the brain"),
      patch_size(),
      number("train.oversample_tumour", MEMBER(train.oversample_tumour), 0.0, 1.0,
             "share of patches centred on a random tumour voxel (nnU-Net's 1/3)"),
      number("train.loss_weights.mask", MEMBER(train.loss_weights.mask), 0.0, 1e6,
             "weight of the mask loss (van der Voort et al. 2023 used IDH 2.26, 1p/19q 3.38, grade 1.33, mask 1: see "
             "`paper_reproduction.json`)"),
  };
  const auto& markers = data::kMarkers;
  for (std::size_t m = 0; m < markers.size(); ++m)
    f.push_back(number(std::string("train.loss_weights.") + markers[m],
                       [m](auto& c) -> auto& { return c.train.loss_weights.markers[m]; }, 0.0, 1e6,
                       std::string("weight of the ") + markers[m] + " loss"));
  f.push_back(boolean("train.keep_optimizer_state", MEMBER(train.keep_optimizer_state),
                      "each client keeps its optimizer's state (Adam moments, SGD momentum) across rounds instead of a "
                      "fresh optimizer per round; kept with the client and in checkpoints"));
  f.push_back(boolean("train.positive_class_weights", MEMBER(train.positive_class_weights),
                      "weight each marker's positive cases by negatives / positives among the client's own labelled "
                      "cases (BCE `pos_weight`); with 3-class grade each grade by labelled / (3 x its count)"));
  f.push_back(boolean(
      "train.mixed_precision", MEMBER(train.mixed_precision),
      "autocast the training forward passes: float16 with dynamic loss scaling on CUDA (torch.cuda.amp's GradScaler "
      "rule: scale 2^16, halved and the step skipped on inf/NaN gradients, doubled after 2,000 good steps; skipped "
      "steps are logged per client as `skipped_steps`), bfloat16 on CPU, which needs oneDNN's AVX-512 kernels: "
      "`runtime.cpu_numerics: native` on a CPU with AVX-512, refused otherwise with a message (portable mode caps "
      "oneDNN at AVX2; see BENCHMARKS.md for its speed). Losses, evaluation and aggregation stay float32"));
  return f;
}

#undef MEMBER

// The config reference's rendering of a default value.
std::string default_text(const json& v) {
  if (v.is_string()) return v.get<std::string>();
  if (v.is_number_float()) {
    char text[32];
    std::snprintf(text, sizeof text, "%g", v.get<double>());
    return text;
  }
  if (v.is_array()) {
    std::string out = "[";
    for (std::size_t i = 0; i < v.size(); ++i) out += (i ? ", " : "") + default_text(v[i]);
    return out + "]";
  }
  return v.dump();
}

}  // namespace

const std::vector<ConfigField>& config_schema() {
  static const std::vector<ConfigField> fields = [] {
    std::vector<ConfigField> all;
    for (auto part : {data_fields(), model_fields(), train_fields(), federation_fields(), eval_fields(), runtime_fields()})
      all.insert(all.end(), part.begin(), part.end());
    return all;
  }();
  return fields;
}

json config_to_json(const ExperimentConfig& config) {
  json out = json::object();
  for (const ConfigField& f : config_schema()) {
    json* node = &out;
    std::size_t start = 0;
    for (auto dot = f.key.find('.'); dot != std::string::npos; start = dot + 1, dot = f.key.find('.', start))
      node = &(*node)[f.key.substr(start, dot - start)];
    (*node)[f.key.substr(start)] = f.write(config);
  }
  return out;
}

ExperimentConfig config_from_json(const json& merged) {
  const ConfigReader reader(merged);
  ExperimentConfig config;
  for (const ConfigField& f : config_schema()) f.read(reader, config);
  return config;
}

std::string config_reference_markdown() {
  const ExperimentConfig defaults;
  std::string out = "| key | default | meaning |\n| --- | --- | --- |\n";
  for (const ConfigField& f : config_schema())
    out += "| `" + f.key + "` | `" + default_text(f.write(defaults)) + "` | " + f.help + " |\n";
  return out;
}

}  // namespace fedglioma::experiments
