#pragma once

#include <array>
#include <cstdint>
#include <string>

#include "models/multitask_loss.h"

namespace fedglioma::sim {

/// `data`: where the cohort is and the grid the network sees.
struct DataConfig {
  std::string manifest = "cohorts/smoke/manifest.json";  ///< relative to the working directory
  std::array<std::int64_t, 3> size{32, 32, 32};          ///< network grid, voxels (i, j, k)
  std::array<double, 3> spacing{1.5, 1.5, 1.5};          ///< network grid spacing, mm
  std::string on_geometry_mismatch = "error";            ///< error | resample (modalities onto the first)
  std::string cache_dir = ".cache/fedglioma";            ///< preprocessed cases; "" disables the cache
  double cache_ram_gb = 4.0;                             ///< bound on the preprocessed cases held in RAM
};

/// `partition`: how training cases become clients.
struct PartitionConfig {
  std::string scheme = "natural";  ///< natural: one client per site
  double val_fraction = 0.2;       ///< share of each client's cases held out for validation
};

/// `model`: MultiTaskUNet3D hyper-parameters.
struct ModelConfig {
  std::string name = "multitask_unet3d";
  std::int64_t depth = 4;
  std::int64_t base_channels = 16;
  std::int64_t max_channels = 320;
  std::string norm = "instance";
  std::int64_t grade_classes = 2;
  std::int64_t head_hidden = 64;
  bool tumour_pooling = true;  ///< marker heads also see the tumour-weighted bottleneck mean
};

/// `train`: a client's local training.
struct TrainConfig {
  int local_epochs = 1;
  int batch_size = 2;
  std::string optimizer = "adam";  ///< adam | sgd
  double lr = 1e-3;
  double momentum = 0.9;           ///< SGD only
  double weight_decay = 0.0;
  bool augment = true;             ///< random flips and per-channel intensity scale/shift
  models::LossWeights loss_weights;
};

/// `federation`: the rounds.
struct FederationConfig {
  std::string mode = "federated";  ///< federated | centralized (all training data pooled)
  int rounds = 20;
  std::string strategy = "fedavg";
};

/// `eval`: when to evaluate the global model.
struct EvalConfig {
  int every = 1;  ///< evaluate every N rounds; the last round is always evaluated
};

/// `runtime`: threads, devices, seed.
struct RuntimeConfig {
  std::string devices = "auto";  ///< auto | cpu | cuda:0,cuda:1,...
  int workers = 2;
  int threads_per_worker = 1;
  std::uint64_t seed = 0;
};

/// A validated experiment: every field holds a usable value (experiments/config_json.cpp parses
/// and checks JSON into it; nothing else reads JSON configs).
struct ExperimentConfig {
  DataConfig data;
  PartitionConfig partition;
  ModelConfig model;
  TrainConfig train;
  FederationConfig federation;
  EvalConfig eval;
  RuntimeConfig runtime;
};

}  // namespace fedglioma::sim
