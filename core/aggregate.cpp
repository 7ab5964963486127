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

PartWeightedSum::PartWeightedSum(std::size_t length, const std::vector<FlatRanges>& parts)
    : part_of_(length, static_cast<std::uint8_t>(parts.size())), sum_(length, 0.0), totals_(parts.size() + 1, 0.0) {
  if (parts.size() >= 255) throw std::invalid_argument("PartWeightedSum: at most 254 parts");
  std::vector<bool> taken(length, false);
  for (std::size_t p = 0; p < parts.size(); ++p)
    for (const auto& [begin, end] : parts[p]) {
      if (begin > end || end > length)
        throw std::invalid_argument("PartWeightedSum: range [" + std::to_string(begin) + ", " + std::to_string(end) +
                                    ") outside a buffer of " + std::to_string(length));
      for (std::size_t i = begin; i < end; ++i) {
        if (taken[i]) throw std::invalid_argument("PartWeightedSum: parts overlap at element " + std::to_string(i));
        taken[i] = true;
        part_of_[i] = static_cast<std::uint8_t>(p);
      }
    }
}

void PartWeightedSum::add(const FlatParams& x, const std::vector<double>& weights) {
  if (weights.size() != totals_.size())
    throw std::invalid_argument("PartWeightedSum: " + std::to_string(weights.size()) + " weights for " +
                                std::to_string(totals_.size()) + " parts");
  for (double w : weights)
    if (!(w >= 0.0)) throw std::invalid_argument("weighted_mean: negative or NaN weight");
  if (x.size() != sum_.size()) throw std::invalid_argument("weighted_mean: buffers differ in length");
  for (std::size_t i = 0; i < x.size(); ++i) sum_[i] += weights[part_of_[i]] * static_cast<double>(x[i]);
  for (std::size_t p = 0; p < totals_.size(); ++p) totals_[p] += weights[p];
}

FlatParams PartWeightedSum::mean(const FlatParams& fallback) const {
  if (fallback.size() != sum_.size()) throw std::invalid_argument("weighted_mean: fallback differs in length");
  FlatParams out(sum_.size());
  for (std::size_t i = 0; i < sum_.size(); ++i) {
    const double total = totals_[part_of_[i]];
    out[i] = total > 0.0 ? static_cast<float>(sum_[i] / total) : fallback[i];
  }
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
