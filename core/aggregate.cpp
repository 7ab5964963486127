#include "core/aggregate.h"

#include <cmath>
#include <stdexcept>
#include <string>

namespace fedglioma {

void WeightedSum::add(const FlatParams& x, double weight) {
  if (!(weight >= 0.0)) throw std::invalid_argument("weighted_mean: negative or NaN weight");
  if (sum_.empty()) sum_.assign(x.size(), 0.0);
  if (x.size() != sum_.size()) throw std::invalid_argument("weighted_mean: buffers differ in length");
  for (std::size_t i = 0; i < x.size(); ++i) sum_[i] += weight * static_cast<double>(x[i]);
  total_ += weight;
}

FlatParams WeightedSum::mean() const {
  if (!(total_ > 0.0)) throw std::invalid_argument("weighted_mean: weights sum to zero");
  FlatParams out(sum_.size());
  for (std::size_t i = 0; i < sum_.size(); ++i) out[i] = static_cast<float>(sum_[i] / total_);
  return out;
}

FlatParams weighted_mean(const std::vector<const FlatParams*>& clients,
                         const std::vector<double>& weights) {
  if (clients.empty()) throw std::invalid_argument("weighted_mean: no client buffers");
  if (clients.size() != weights.size())
    throw std::invalid_argument("weighted_mean: " + std::to_string(clients.size()) +
                                " buffers but " + std::to_string(weights.size()) + " weights");
  WeightedSum sum;
  for (std::size_t k = 0; k < clients.size(); ++k) sum.add(*clients[k], weights[k]);
  return sum.mean();
}

bool all_finite(const FlatParams& params) {
  for (float v : params)
    if (!std::isfinite(v)) return false;
  return true;
}

}  // namespace fedglioma
