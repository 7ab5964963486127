#include "core/aggregate.h"

#include <cmath>
#include <stdexcept>
#include <string>

namespace fedglioma {

FlatParams weighted_mean(const std::vector<const FlatParams*>& clients,
                         const std::vector<double>& weights) {
  if (clients.empty()) throw std::invalid_argument("weighted_mean: no client buffers");
  if (clients.size() != weights.size())
    throw std::invalid_argument("weighted_mean: " + std::to_string(clients.size()) +
                                " buffers but " + std::to_string(weights.size()) + " weights");
  double total = 0.0;
  for (double w : weights) {
    if (!(w >= 0.0)) throw std::invalid_argument("weighted_mean: negative or NaN weight");
    total += w;
  }
  if (!(total > 0.0)) throw std::invalid_argument("weighted_mean: weights sum to zero");
  const std::size_t n = clients.front()->size();
  for (const FlatParams* c : clients)
    if (c->size() != n) throw std::invalid_argument("weighted_mean: buffers differ in length");

  std::vector<double> acc(n, 0.0);
  for (std::size_t k = 0; k < clients.size(); ++k) {
    const double w = weights[k] / total;
    const float* x = clients[k]->data();
    for (std::size_t i = 0; i < n; ++i) acc[i] += w * static_cast<double>(x[i]);
  }
  FlatParams out(n);
  for (std::size_t i = 0; i < n; ++i) out[i] = static_cast<float>(acc[i]);
  return out;
}

bool all_finite(const FlatParams& params) {
  for (float v : params)
    if (!std::isfinite(v)) return false;
  return true;
}

}  // namespace fedglioma
