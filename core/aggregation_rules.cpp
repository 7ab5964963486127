#include "core/aggregation_rules.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <stdexcept>
#include <string>

namespace fedglioma {
namespace {

[[noreturn]] void fail(const char* function, const std::string& message) {
  throw std::invalid_argument(std::string(function) + ": " + message);
}

/// Checks that there is at least one client buffer, that none is null and that all have the same
/// length; returns that length.
std::size_t common_length(const char* function, const std::vector<const FlatParams*>& buffers) {
  if (buffers.empty()) fail(function, "no client buffers");
  for (const FlatParams* b : buffers)
    if (b == nullptr) fail(function, "null client buffer");
  const std::size_t n = buffers.front()->size();
  for (std::size_t k = 1; k < buffers.size(); ++k)
    if (buffers[k]->size() != n)
      fail(function, "client " + std::to_string(k) + " has " + std::to_string(buffers[k]->size()) +
                         " values but client 0 has " + std::to_string(n));
  return n;
}

void require_same_length(const char* function, const char* what, std::size_t actual, std::size_t expected) {
  if (actual != expected)
    fail(function,
         std::string(what) + " has " + std::to_string(actual) + " values, expected " + std::to_string(expected));
}

/// A persisted state buffer is either empty (no step taken yet) or as long as the model.
void require_empty_or_length(const char* function, const char* what, std::size_t actual, std::size_t expected) {
  if (actual != 0 && actual != expected)
    fail(function, std::string(what) + " has " + std::to_string(actual) + " values but the model has " +
                       std::to_string(expected) + " (state from another model?)");
}

void require_positive(const char* function, const char* what, double value) {
  if (!(value > 0.0) || !std::isfinite(value))
    fail(function, std::string(what) + " must be positive and finite, got " + std::to_string(value));
}

void require_unit_interval(const char* function, const char* what, double value) {
  if (!(value >= 0.0 && value < 1.0))
    fail(function, std::string(what) + " must lie in [0, 1), got " + std::to_string(value));
}

double sign(double x) { return static_cast<double>((x > 0.0) - (x < 0.0)); }

}  // namespace

FlatParams coordinate_median(const std::vector<const FlatParams*>& clients) {
  const std::size_t n = common_length("coordinate_median", clients);
  const std::size_t k = clients.size();
  const std::size_t upper = k / 2;
  std::vector<float> column(k);
  FlatParams out(n);
  for (std::size_t i = 0; i < n; ++i) {
    for (std::size_t c = 0; c < k; ++c) column[c] = (*clients[c])[i];
    std::nth_element(column.begin(), column.begin() + upper, column.end());
    const double high = column[upper];
    if (k % 2 == 1) {
      out[i] = static_cast<float>(high);
    } else {
      // After nth_element every value left of `upper` is <= column[upper]; the largest is the lower middle.
      const double low = *std::max_element(column.begin(), column.begin() + upper);
      out[i] = static_cast<float>((low + high) / 2.0);
    }
  }
  return out;
}

FlatParams trimmed_mean(const std::vector<const FlatParams*>& clients, double beta) {
  const std::size_t n = common_length("trimmed_mean", clients);
  if (!(beta >= 0.0 && beta < 0.5)) fail("trimmed_mean", "beta must lie in [0, 0.5), got " + std::to_string(beta));
  const std::size_t k = clients.size();
  // Flower and scipy cut int(beta * n) values from each tail.
  const auto cut = static_cast<std::size_t>(std::floor(beta * static_cast<double>(k)));
  const std::size_t kept = k - 2 * cut;  // > 0 because beta < 0.5
  std::vector<float> column(k);
  FlatParams out(n);
  for (std::size_t i = 0; i < n; ++i) {
    for (std::size_t c = 0; c < k; ++c) column[c] = (*clients[c])[i];
    std::sort(column.begin(), column.end());
    double sum = 0.0;
    for (std::size_t c = cut; c < k - cut; ++c) sum += column[c];
    out[i] = static_cast<float>(sum / static_cast<double>(kept));
  }
  return out;
}

std::vector<std::size_t> krum_select(const std::vector<const FlatParams*>& clients, int num_malicious, int to_keep) {
  const std::size_t n = common_length("krum_select", clients);
  const std::size_t k = clients.size();
  if (num_malicious < 0) fail("krum_select", "num_malicious must be >= 0, got " + std::to_string(num_malicious));
  if (to_keep < 0 || static_cast<std::size_t>(to_keep) > k)
    fail("krum_select", "to_keep must lie in [0, " + std::to_string(k) + "], got " + std::to_string(to_keep));

  // Squared Euclidean distances, symmetric, computed once per pair.
  std::vector<double> distance(k * k, 0.0);
  for (std::size_t a = 0; a < k; ++a)
    for (std::size_t b = a + 1; b < k; ++b) {
      const float* x = clients[a]->data();
      const float* y = clients[b]->data();
      double d = 0.0;
      for (std::size_t i = 0; i < n; ++i) {
        const double diff = static_cast<double>(x[i]) - static_cast<double>(y[i]);
        d += diff * diff;
      }
      distance[a * k + b] = distance[b * k + a] = d;
    }

  // Flower: max(1, n - f - 2) neighbours; a single client has none and scores 0.
  const auto wanted = std::max<std::int64_t>(1, static_cast<std::int64_t>(k) - num_malicious - 2);
  const std::size_t neighbours = std::min<std::size_t>(static_cast<std::size_t>(wanted), k - 1);
  std::vector<double> scores(k, 0.0), others;
  for (std::size_t a = 0; a < k; ++a) {
    others.clear();
    for (std::size_t b = 0; b < k; ++b)
      if (b != a) others.push_back(distance[a * k + b]);
    std::partial_sort(others.begin(), others.begin() + static_cast<std::ptrdiff_t>(neighbours), others.end());
    scores[a] = std::accumulate(others.begin(), others.begin() + static_cast<std::ptrdiff_t>(neighbours), 0.0);
  }

  std::vector<std::size_t> order(k);
  std::iota(order.begin(), order.end(), std::size_t{0});
  std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return scores[a] < scores[b]; });
  order.resize(to_keep == 0 ? 1 : static_cast<std::size_t>(to_keep));
  return order;
}

FlatParams krum(const std::vector<const FlatParams*>& clients, const std::vector<double>& weights, int num_malicious,
                int to_keep) {
  if (weights.size() != clients.size())
    fail("krum", std::to_string(clients.size()) + " buffers but " + std::to_string(weights.size()) + " weights");
  std::vector<std::size_t> chosen = krum_select(clients, num_malicious, to_keep);
  if (to_keep == 0) return *clients[chosen.front()];
  std::sort(chosen.begin(), chosen.end());  // average in client order
  std::vector<const FlatParams*> kept;
  std::vector<double> kept_weights;
  for (std::size_t c : chosen) {
    kept.push_back(clients[c]);
    kept_weights.push_back(weights[c]);
  }
  return weighted_mean(kept, kept_weights);
}

void fedavgm_step(FlatParams& global, const FlatParams& aggregated, ServerOptimizerState& state, double server_lr,
                  double momentum) {
  const char* fn = "fedavgm_step";
  const std::size_t n = global.size();
  if (n == 0) fail(fn, "empty global model");
  require_same_length(fn, "aggregated", aggregated.size(), n);
  require_positive(fn, "server_lr", server_lr);
  if (!(momentum >= 0.0) || !std::isfinite(momentum))
    fail(fn, "momentum must be >= 0 and finite, got " + std::to_string(momentum));
  require_empty_or_length(fn, "momentum buffer", state.m.size(), n);

  if (momentum == 0.0 && server_lr == 1.0) {
    // Flower skips the server optimizer entirely here (server_opt is false): plain FedAvg.
    global = aggregated;
  } else if (momentum == 0.0) {
    for (std::size_t i = 0; i < n; ++i) {
      const double g = static_cast<double>(global[i]) - static_cast<double>(aggregated[i]);
      global[i] = static_cast<float>(static_cast<double>(global[i]) - server_lr * g);
    }
  } else {
    const bool first = state.m.empty();
    if (first) state.m.assign(n, 0.0f);
    for (std::size_t i = 0; i < n; ++i) {
      const double g = static_cast<double>(global[i]) - static_cast<double>(aggregated[i]);
      const double m = first ? g : momentum * static_cast<double>(state.m[i]) + g;
      state.m[i] = static_cast<float>(m);
      // The stored (float) buffer drives the step, so a run resumed from a checkpoint matches.
      global[i] = static_cast<float>(static_cast<double>(global[i]) - server_lr * static_cast<double>(state.m[i]));
    }
  }
  ++state.step;
}

FedOptParams fedopt_flower_defaults(FedOptKind kind) {
  switch (kind) {
    case FedOptKind::kAdagrad:
      return FedOptParams{0.1, 0.0, 0.0, 1e-3};
    case FedOptKind::kAdam:
      return FedOptParams{0.1, 0.9, 0.99, 1e-3};
    case FedOptKind::kYogi:
      return FedOptParams{0.01, 0.9, 0.99, 1e-3};
  }
  throw std::invalid_argument("fedopt_flower_defaults: unknown FedOptKind");
}

void fedopt_step(FlatParams& global, const FlatParams& aggregated, ServerOptimizerState& state, FedOptKind kind,
                 const FedOptParams& params) {
  const char* fn = "fedopt_step";
  const std::size_t n = global.size();
  if (n == 0) fail(fn, "empty global model");
  require_same_length(fn, "aggregated", aggregated.size(), n);
  require_positive(fn, "eta", params.eta);
  require_positive(fn, "tau", params.tau);
  require_unit_interval(fn, "beta1", params.beta1);
  if (kind != FedOptKind::kAdagrad) require_unit_interval(fn, "beta2", params.beta2);
  require_empty_or_length(fn, "first moment m", state.m.size(), n);
  require_empty_or_length(fn, "second moment v", state.v.size(), n);

  // Flower starts both moments at zeros for every kind.
  if (state.m.empty()) state.m.assign(n, 0.0f);
  if (state.v.empty()) state.v.assign(n, 0.0f);
  const std::int64_t round = state.step + 1;

  double eta = params.eta;
  if (kind == FedOptKind::kAdam) {
    // Flower's fedadam.py: eta * sqrt(1 - beta2^(server_round + 1)) / (1 - beta1^(server_round + 1)).
    const double t = static_cast<double>(round) + 1.0;
    eta = params.eta * std::sqrt(1.0 - std::pow(params.beta2, t)) / (1.0 - std::pow(params.beta1, t));
  }

  const double b1 = params.beta1, b2 = params.beta2;
  for (std::size_t i = 0; i < n; ++i) {
    const double delta = static_cast<double>(aggregated[i]) - static_cast<double>(global[i]);
    const double delta2 = delta * delta;
    const double m = b1 * static_cast<double>(state.m[i]) + (1.0 - b1) * delta;
    const double v_old = state.v[i];
    double v = 0.0;
    switch (kind) {
      case FedOptKind::kAdagrad:
        v = v_old + delta2;
        break;
      case FedOptKind::kAdam:
        v = b2 * v_old + (1.0 - b2) * delta2;
        break;
      case FedOptKind::kYogi:
        v = v_old - (1.0 - b2) * delta2 * sign(v_old - delta2);
        break;
    }
    state.m[i] = static_cast<float>(m);
    state.v[i] = static_cast<float>(v);
    global[i] = static_cast<float>(static_cast<double>(global[i]) + eta * m / (std::sqrt(v) + params.tau));
  }
  state.step = round;
}

FlatParams fednova(const FlatParams& global, const std::vector<const FlatParams*>& clients,
                   const std::vector<double>& samples, const std::vector<double>& local_steps) {
  const char* fn = "fednova";
  const std::size_t n = common_length(fn, clients);
  require_same_length(fn, "global", global.size(), n);
  const std::size_t k = clients.size();
  if (samples.size() != k || local_steps.size() != k)
    fail(fn, std::to_string(k) + " buffers but " + std::to_string(samples.size()) + " sample counts and " +
                 std::to_string(local_steps.size()) + " local step counts");
  double total = 0.0;
  for (double s : samples) {
    if (!(s >= 0.0) || !std::isfinite(s)) fail(fn, "sample counts must be >= 0 and finite");
    total += s;
  }
  if (!(total > 0.0)) fail(fn, "sample counts sum to zero");
  for (double t : local_steps) require_positive(fn, "local_steps", t);

  double tau_eff = 0.0;
  for (std::size_t c = 0; c < k; ++c) tau_eff += samples[c] / total * local_steps[c];
  // acc = sum_i p_i d_i, with d_i the update per local step.
  std::vector<double> acc(n, 0.0);
  for (std::size_t c = 0; c < k; ++c) {
    const double scale = samples[c] / total / local_steps[c];
    const float* y = clients[c]->data();
    for (std::size_t i = 0; i < n; ++i) acc[i] += scale * (static_cast<double>(global[i]) - static_cast<double>(y[i]));
  }
  FlatParams out(n);
  for (std::size_t i = 0; i < n; ++i) out[i] = static_cast<float>(static_cast<double>(global[i]) - tau_eff * acc[i]);
  return out;
}

void scaffold_server_step(FlatParams& global, FlatParams& control, const std::vector<const FlatParams*>& client_params,
                          const std::vector<const FlatParams*>& control_deltas, std::size_t total_clients,
                          double server_lr) {
  const char* fn = "scaffold_server_step";
  const std::size_t n = common_length(fn, client_params);
  require_same_length(fn, "global", global.size(), n);
  const std::size_t sampled = client_params.size();
  if (control_deltas.size() != sampled)
    fail(fn,
         std::to_string(sampled) + " client buffers but " + std::to_string(control_deltas.size()) + " control deltas");
  require_same_length(fn, "control deltas", common_length(fn, control_deltas), n);
  require_empty_or_length(fn, "server control", control.size(), n);
  if (total_clients < sampled)
    fail(fn, std::to_string(sampled) + " sampled clients but only " + std::to_string(total_clients) + " in total");
  require_positive(fn, "server_lr", server_lr);

  const double inv_sampled = 1.0 / static_cast<double>(sampled);
  std::vector<double> dx(n, 0.0), dc(n, 0.0);
  for (std::size_t c = 0; c < sampled; ++c) {
    const float* y = client_params[c]->data();
    const float* d = control_deltas[c]->data();
    for (std::size_t i = 0; i < n; ++i) {
      dx[i] += static_cast<double>(y[i]) - static_cast<double>(global[i]);
      dc[i] += d[i];
    }
  }
  if (control.empty()) control.assign(n, 0.0f);
  const double fraction = static_cast<double>(sampled) / static_cast<double>(total_clients);
  for (std::size_t i = 0; i < n; ++i) {
    global[i] = static_cast<float>(static_cast<double>(global[i]) + server_lr * dx[i] * inv_sampled);
    control[i] = static_cast<float>(static_cast<double>(control[i]) + fraction * dc[i] * inv_sampled);
  }
}

FlatParams scaffold_client_control(const FlatParams& client_control, const FlatParams& server_control,
                                   const FlatParams& global, const FlatParams& local, std::int64_t local_steps,
                                   double lr) {
  const char* fn = "scaffold_client_control";
  const std::size_t n = global.size();
  if (n == 0) fail(fn, "empty global model");
  require_same_length(fn, "local", local.size(), n);
  require_empty_or_length(fn, "client control", client_control.size(), n);
  require_empty_or_length(fn, "server control", server_control.size(), n);
  if (local_steps <= 0) fail(fn, "local_steps must be positive, got " + std::to_string(local_steps));
  require_positive(fn, "lr", lr);

  const double inv = 1.0 / (static_cast<double>(local_steps) * lr);
  FlatParams out(n);
  for (std::size_t i = 0; i < n; ++i) {
    const double ci = client_control.empty() ? 0.0 : client_control[i];
    const double c = server_control.empty() ? 0.0 : server_control[i];
    out[i] = static_cast<float>(ci - c + (static_cast<double>(global[i]) - static_cast<double>(local[i])) * inv);
  }
  return out;
}

}  // namespace fedglioma
