#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <stdexcept>
#include <string>
#include <vector>

#include "data/preprocess.h"
#include "models/loss_weights.h"
#include "models/model_config.h"

namespace fedglioma::sim {

/// `data`: where the cohort is and the grid the network sees.
struct DataConfig {
  std::string manifest = "cohorts/smoke/manifest.json";  ///< relative to the working directory
  std::array<std::int64_t, 3> size = data::kDefaultGridSize;    ///< network grid, voxels (i, j, k)
  std::array<double, 3> spacing = data::kDefaultGridSpacing;  ///< network grid spacing, mm
  std::string on_geometry_mismatch = "error";            ///< error | resample (modalities onto the first)
  std::string cache_dir = ".cache/fedglioma";            ///< preprocessed cases; "" disables the cache
  double cache_ram_gb = 4.0;                             ///< bound on the preprocessed cases held in RAM
};

/// `partition`: how training cases become clients.
struct PartitionConfig {
  std::string scheme = "natural";  ///< natural (one client per site) | iid | dirichlet | quantity
  int num_clients = 8;             ///< iid, dirichlet, quantity
  std::string label = "idh";       ///< dirichlet: the marker whose classes are skewed
  double alpha = 0.5;              ///< dirichlet, quantity: concentration (smaller = more skewed)
  double val_fraction = 0.2;       ///< share of each client's cases held out for validation
};

/// `model`: which network and its hyper-parameters (models/model_config.h).
using models::ModelConfig;

/// `train`: a client's local training.
struct TrainConfig {
  int local_epochs = 1;
  int batch_size = 2;
  std::string optimizer = "adam";  ///< adam | adamw | sgd
  double lr = 1e-3;
  double momentum = 0.9;           ///< SGD only
  bool nesterov = false;           ///< SGD only
  std::string lr_schedule = "constant";  ///< constant | cosine | polynomial, over the rounds
  double lr_min = 0.0;             ///< cosine: the rate it decays towards
  double lr_power = 0.9;           ///< polynomial: the exponent (nnU-Net's 0.9)
  double grad_clip = 0.0;          ///< max gradient L2 norm per step; 0 = no clipping
  double weight_decay = 0.0;
  bool augment = true;             ///< random flips and per-channel intensity scale/shift
  double augment_gamma = 0.0;      ///< probability of a gamma transform per channel
  double augment_noise = 0.0;      ///< probability of Gaussian noise per sample
  std::array<std::int64_t, 3> patch_size{0, 0, 0};  ///< training patch (i, j, k); 0 = whole volume
  double oversample_tumour = 0.33; ///< share of patches centred on tumour (nnU-Net's 1/3)
  bool positive_class_weights = false;  ///< weight each marker's positives by the client's negatives/positives
  bool keep_optimizer_state = false;    ///< each client keeps its optimizer state (moments) across rounds
  bool mixed_precision = false;         ///< autocast forward passes: float16 + loss scaling on CUDA, bfloat16 on CPU
  models::LossWeights loss_weights;
};

/// `federation.strategy`: the aggregation rule and its parameters. Only the parameters of the
/// named strategy appear in a config; `defaults(name)` gives them all (sim/strategy/strategy_registry.h
/// declares each strategy's parameters, ranges and sources).
struct StrategyConfig {
  std::string name = "fedavg";
  std::map<std::string, double> params;  ///< every numeric parameter (and switch, 0 or 1) of the named strategy
  std::map<std::string, std::vector<std::string>> groups;  ///< every parameter-group list of the named strategy

  /// The parameter `key`; std::logic_error when the strategy has none of that name.
  double param(const std::string& key) const {
    const auto it = params.find(key);
    if (it == params.end()) throw std::logic_error("strategy " + name + " has no parameter '" + key + "'");
    return it->second;
  }
  /// The switch `key`: false when the strategy has no parameter of that name (it has no such option).
  bool flag(const std::string& key) const {
    const auto it = params.find(key);
    return it != params.end() && it->second != 0.0;
  }
  /// The group list `key`; std::logic_error when the strategy has none of that name.
  const std::vector<std::string>& group_list(const std::string& key) const {
    const auto it = groups.find(key);
    if (it == groups.end()) throw std::logic_error("strategy " + name + " has no group list '" + key + "'");
    return it->second;
  }
  static StrategyConfig defaults(const std::string& name);
};

/// `federation.simulated_time`: a simulated wall clock, as the FeTS challenge reports: a client
/// takes (training samples x local epochs) / samples_per_second plus two model transfers at
/// megabits_per_second; a round takes its slowest client's time. Per-site values override.
struct SimulatedTimeConfig {
  bool enabled = false;
  double samples_per_second = 1.0;
  double megabits_per_second = 100.0;
  std::map<std::string, double> site_samples_per_second;  ///< by client id
  std::map<std::string, double> site_megabits_per_second;
  double jitter = 0.0;            ///< each participation's times x U(1 - jitter, 1 + jitter)
  std::string profile = "none";   ///< none | fets2022 (measured per-institution timings)
  double budget_s = 0.0;          ///< the asynchronous federations stop at this simulated time; 0: none
};

/// `federation.staleness`: how much an asynchronous update counts after tau server steps
/// (sim/run/staleness.h).
struct StalenessConfig {
  std::string function = "polynomial";  ///< constant | polynomial | hinge
  double exponent = 0.5;                ///< polynomial: 1 / (1 + tau)^exponent
  double hinge_a = 10.0, hinge_b = 4.0;  ///< hinge: 1 while tau <= b, then 1 / (a (tau - b) + 1)
};

/// `federation.dp`: client-level differential privacy (sim/privacy/dp_mechanism.h): each client's
/// update difference clipped to L2 norm clip_norm, Gaussian noise of noise_multiplier x the
/// sensitivity on the sum (central) or on each client's update (local), clients sampled by
/// Poisson sampling at federation.clients_per_round; accounted by core/rdp_accountant.h.
struct DpConfig {
  bool enabled = false;
  std::string mode = "central";   ///< central | local
  double noise_multiplier = 1.0;  ///< z
  double clip_norm = 0.1;         ///< C (the initial one with adaptive clipping)
  bool adaptive_clipping = false;  ///< Andrew et al. 2021: C follows a quantile of the update norms
  double target_quantile = 0.5;   ///< adaptive: gamma
  double clip_lr = 0.2;           ///< adaptive: eta_C
  double count_noise = 0.0;       ///< adaptive: sigma_b; 0: expected clients / 20
  double weight_cap = 0.0;        ///< McMahan et al. 2018's w-hat: w_k = min(n_k / cap, 1); 0: the largest n_k
  double delta = 0.0;             ///< 0: 1 / (10 x clients)
  double target_epsilon = 0.0;    ///< > 0: the run stops before a round that would exceed it
  double site_target_epsilon = 0.0;  ///< > 0: a site whose next release would exceed it is retired
};

/// `federation`: the rounds.
struct FederationConfig {
  std::string mode = "federated";  ///< federated | centralized (all training data pooled) | local (each site alone)
  int rounds = 20;
  double clients_per_round = 1.0;  ///< <= 1: a fraction of the clients; > 1: a count
  int min_clients = 1;             ///< fewer usable updates than this: the round is skipped or the run stops
  std::string below_min_clients = "skip";  ///< skip | stop
  double dropout = 0.0;            ///< probability that a selected client drops out of a round
  StrategyConfig strategy;
  SimulatedTimeConfig simulated_time;
  double deadline_s = 0.0;   ///< simulated seconds a round waits for updates; 0: no deadline
  double over_select = 0.0;  ///< extra clients selected (a fraction of the round's); the first arrivals count
  /// synchronous (rounds) | fedbuff (Nguyen et al. 2022) | fedasync (Xie et al. 2019): the last two
  /// on the virtual clock, one rounds.jsonl line per server step (sim/run/async_loop.h).
  std::string aggregation = "synchronous";
  int concurrency = 0;       ///< clients training at once; 0: every client
  int buffer_size = 0;       ///< fedbuff: K, the arrivals each server step applies
  double server_lr = 1.0;    ///< fedbuff: eta_g, for strategies without a server optimizer of their own
  double mixing = 0.6;       ///< fedasync: alpha
  int max_staleness = 0;     ///< updates older than this many server steps are dropped; 0: no limit
  StalenessConfig staleness;
  DpConfig dp;
};

/// `eval`: when to evaluate the global model.
struct EvalConfig {
  int every = 1;  ///< evaluate every N rounds; the last round is always evaluated
  int finetune_epochs = 0;  ///< epochs each client fine-tunes its deployed model on its own cases before evaluation
  std::string select_by = "val.dice_mean";  ///< the round a run reports, chosen on validation (sim/record/selection.h)
};

/// `runtime`: threads, devices, seed.
struct RuntimeConfig {
  std::string devices = "auto";  ///< auto | cpu | cuda:0,cuda:1,...
  bool tensorboard = true;       ///< TensorBoard event files in RUN_DIR/tensorboard/
  bool report = true;            ///< report.html in the run folder when the run ends
  int workers = 2;
  int threads_per_worker = 1;
  std::uint64_t seed = 0;
  int checkpoint_every = 1;  ///< rounds between checkpoints; 0 = none
  /// RAM for what clients keep across rounds (control variates, local models, optimizers); the
  /// rest is kept on disk in the run folder's client_state/
  double client_state_ram_gb = 4.0;
  /// Across processes: how long a rank waits for the rendezvous and for a collective before it
  /// names the rank lost and exits non-zero.
  double distributed_timeout_s = 300.0;
  /// portable: torch's CPU kernels pinned to AVX2, the same bits on every x86-64 CPU with AVX2;
  /// native: the fastest kernels of this CPU (core/numerics.h)
  std::string cpu_numerics = "portable";
  bool deterministic = true;  ///< CUDA: deterministic algorithms, no cuDNN autotuning
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
