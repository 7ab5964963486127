#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "core/aggregate.h"

// The server-side maths of the federated strategies other than plain FedAvg (which is
// `weighted_mean` in core/aggregate.h). Every function works on flat parameter buffers, follows
// one published reference implementation (named in its comment), accumulates in double in the
// order the clients are given, and throws std::invalid_argument on empty input, buffers of
// different lengths or out-of-range parameters. Reference values: scripts/make_aggregation_reference.py.

namespace fedglioma {

/// FedMedian (Yin et al. 2018): the unweighted coordinate-wise median of the client buffers, as
/// Flower's `aggregate_median` (flwr/server/strategy/aggregate.py), which applies `np.median` over
/// the clients and ignores their sample counts. An even client count gives the mean of the two
/// middle values (np.median semantics).
FlatParams coordinate_median(const std::vector<const FlatParams*>& clients);

/// FedTrimmedAvg (Yin et al. 2018): per coordinate, drops the floor(beta * n) smallest and the
/// floor(beta * n) largest of the n client values and returns the unweighted mean of the rest, as
/// Flower's `aggregate_trimmed_avg` / `_trim_mean` (aggregate.py; scipy.stats.trim_mean semantics).
/// Flower's FedTrimmedAvg defaults to beta = 0.2. beta must lie in [0, 0.5). The kept values are
/// summed in ascending order, so the result does not depend on the order of the clients.
FlatParams trimmed_mean(const std::vector<const FlatParams*>& clients, double beta);

/// Krum / MultiKrum selection (Blanchard et al. 2017), as Flower's `aggregate_krum` (aggregate.py;
/// strategy krum.py, defaults num_malicious_clients = 0, num_clients_to_keep = 0). Each client's
/// score is the sum of its squared Euclidean distances to its max(1, n - f - 2) closest other
/// clients (f = num_malicious; fewer when there are fewer other clients). Returns the index of the
/// lowest score when to_keep == 0 (Krum), else the indices of the to_keep lowest scores (MultiKrum),
/// lowest score first; equal scores go to the lower index, as np.argmin / np.argsort do.
/// Requires num_malicious >= 0 and 0 <= to_keep <= n.
std::vector<std::size_t> krum_select(const std::vector<const FlatParams*>& clients, int num_malicious, int to_keep);

/// The Krum aggregate, as Flower's `aggregate_krum`: the parameters of the single client chosen by
/// `krum_select` when to_keep == 0, else the `weights`-weighted mean (`weighted_mean`; Flower uses
/// the sample counts) of the to_keep chosen clients, accumulated in client order.
FlatParams krum(const std::vector<const FlatParams*>& clients, const std::vector<double>& weights, int num_malicious,
                int to_keep);

/// Server-side optimizer state that persists across rounds; the caller checkpoints it with the model.
struct ServerOptimizerState {
  std::vector<float> m;   ///< first moment (FedOpt) or momentum buffer (FedAvgM); empty before the first step
  std::vector<float> v;   ///< second moment (FedOpt); empty before the first step
  std::int64_t step = 0;  ///< completed server steps (Flower's server_round after the step)
};

/// FedAvgM (Hsu et al. 2019), as Flower's FedAvgM (flwr/server/strategy/fedavgm.py; defaults
/// server_learning_rate = 1.0, server_momentum = 0.0), i.e. torch.optim.SGD without dampening or
/// Nesterov applied to the pseudo-gradient g = global - aggregated:
///   momentum > 0: m <- g on the first step, m <- momentum * m + g afterwards; g <- m;
///   global <- global - server_lr * g.
/// As in Flower, momentum == 0 and server_lr == 1 make the result exactly `aggregated`, and the
/// momentum buffer is kept only when momentum > 0. Requires server_lr > 0 and momentum >= 0.
void fedavgm_step(FlatParams& global, const FlatParams& aggregated, ServerOptimizerState& state, double server_lr,
                  double momentum);

/// The server optimizer of the FedOpt family.
enum class FedOptKind { kAdagrad, kAdam, kYogi };

/// Hyper-parameters of `fedopt_step`; `fedopt_flower_defaults` gives Flower's per-kind defaults.
struct FedOptParams {
  double eta = 0.1;     ///< server learning rate
  double beta1 = 0.9;   ///< first-moment decay
  double beta2 = 0.99;  ///< second-moment decay (unused by Adagrad)
  double tau = 1e-3;    ///< adaptivity: added to sqrt(v) in the denominator
};

/// The defaults of Flower's current strategies (flwr/serverapp/strategy/fedadagrad.py,
/// fedadam.py, fedyogi.py, 2025 Message API):
///   FedAdagrad: eta 0.1, beta1 0 (fixed: FedAdagrad passes beta_1 = 0.0 to FedOpt), tau 1e-3;
///   FedAdam:    eta 0.1, beta1 0.9, beta2 0.99, tau 1e-3;
///   FedYogi:    eta 0.01, beta1 0.9, beta2 0.99, tau 1e-3.
/// Flower's older strategies (flwr/server/strategy/) default FedAdagrad's and FedAdam's tau to
/// 1e-9; pass tau to reproduce them. (The client learning rate eta_l, 0.1 / 0.1 / 0.0316, is a
/// client setting and not part of this.)
FedOptParams fedopt_flower_defaults(FedOptKind kind);

/// One FedOpt server step (Reddi et al. 2021, "Adaptive Federated Optimization", Algorithm 2), as
/// Flower's FedAdagrad / FedAdam / FedYogi `aggregate_fit` (fedadagrad.py, fedadam.py, fedyogi.py):
///   delta = aggregated - global
///   m <- beta1 * m + (1 - beta1) * delta
///   v <- v + delta^2                                         (Adagrad)
///   v <- beta2 * v + (1 - beta2) * delta^2                   (Adam)
///   v <- v - (1 - beta2) * delta^2 * sign(v - delta^2)       (Yogi; sign(0) = 0 as np.sign)
///   global <- global + eta_t * m / (sqrt(v) + tau)
/// m and v start at zero for every kind (Flower's `np.zeros_like`, not the paper's v_{-1} >= tau^2).
/// eta_t = eta, except for Adam, where Flower uses the bias-corrected rate of Kingma & Ba,
///   eta_t = eta * sqrt(1 - beta2^(t + 1)) / (1 - beta1^(t + 1)),  t = server_round (1-based),
/// i.e. with the exponent one above the paper's. Here t is `state.step` after this step, which equals
/// Flower's server_round when every round produced an update. Flower does not bias-correct Adagrad
/// or Yogi. Requires eta > 0, tau > 0, beta1 in [0, 1) and, for Adam and Yogi, beta2 in [0, 1).
void fedopt_step(FlatParams& global, const FlatParams& aggregated, ServerOptimizerState& state, FedOptKind kind,
                 const FedOptParams& params);

/// FedNova (Wang et al. 2020, "Tackling the Objective Inconsistency Problem in Heterogeneous
/// Federated Optimization") with vanilla local SGD, whose normalising vector a_i has
/// ||a_i||_1 = tau_i (the client's local steps):
///   p_i = n_i / sum_j n_j,  d_i = (global - y_i) / tau_i,  tau_eff = sum_i p_i tau_i,
///   returns global - tau_eff * sum_i p_i d_i.
/// With equal local steps this is the sample-weighted mean. Requires samples >= 0 with a positive
/// sum and local_steps > 0.
FlatParams fednova(const FlatParams& global, const std::vector<const FlatParams*>& clients,
                   const std::vector<double>& samples, const std::vector<double>& local_steps);

/// SCAFFOLD server step (Karimireddy et al. 2020, Algorithm 1) over the S sampled
/// clients of N = total_clients:
///   global  <- global + server_lr * mean_i(y_i - global)
///   control <- control + (S / N) * mean_i(delta_c_i)
/// An empty `control` means zeros (before the first round). Requires S >= 1, S <= N and server_lr > 0.
void scaffold_server_step(FlatParams& global, FlatParams& control, const std::vector<const FlatParams*>& client_params,
                          const std::vector<const FlatParams*>& control_deltas, std::size_t total_clients,
                          double server_lr);

/// SCAFFOLD client control variate update, option II (Karimireddy et al. 2020, Algorithm 1):
///   c_i+ = c_i - c + (global - y_i) / (local_steps * lr),
/// with y_i the client's parameters after `local_steps` local SGD steps at learning rate `lr`.
/// Returns c_i+; the caller sends delta_c_i = c_i+ - c_i. An empty c_i or c means zeros.
/// Requires local_steps > 0 and lr > 0.
FlatParams scaffold_client_control(const FlatParams& client_control, const FlatParams& server_control,
                                   const FlatParams& global, const FlatParams& local, std::int64_t local_steps,
                                   double lr);

}  // namespace fedglioma
