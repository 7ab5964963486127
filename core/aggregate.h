#pragma once

#include <cstddef>
#include <cstdint>
#include <utility>
#include <vector>

namespace fedglioma {

/// One flat parameter buffer: every tensor of a model's state, concatenated in a fixed order.
using FlatParams = std::vector<float>;

/// [begin, end) ranges of a flat buffer.
using FlatRanges = std::vector<std::pair<std::size_t, std::size_t>>;

/// A running weighted sum of parameter buffers, in double: the one implementation of the weighted
/// mean, usable one client at a time (a round folds its updates as they arrive in client-id order
/// and holds no more of them than needed).
class WeightedSum {
 public:
  /// Adds `weight` * `x`. Throws std::invalid_argument for a negative or NaN weight or a length
  /// that differs from earlier buffers.
  void add(const FlatParams& x, double weight);
  /// sum / total weight, as float. Throws std::invalid_argument when the weights sum to zero.
  FlatParams mean() const;
  bool empty() const { return sum_.empty(); }

 private:
  std::vector<double> sum_;
  double total_ = 0.0;
};

/// A running weighted sum whose weights differ by part of the buffer: part p (a set of ranges) is
/// weighted by weights[p] and every element in no part by the last weight. Each part's mean is
/// computed as WeightedSum computes the whole one (double sums, one division, then float), so
/// equal weights for every part give WeightedSum's mean bit for bit. A part whose weights sum to
/// zero (no client has any of what weights it) takes the values of `fallback` instead.
class PartWeightedSum {
 public:
  /// `parts` must not overlap and must lie within buffers of `length` elements (std::invalid_argument).
  PartWeightedSum(std::size_t length, const std::vector<FlatRanges>& parts);
  /// Adds x weighted part by part; `weights` has one entry per part and one for the rest. Throws
  /// std::invalid_argument for a negative or NaN weight or a buffer of another length.
  void add(const FlatParams& x, const std::vector<double>& weights);
  FlatParams mean(const FlatParams& fallback) const;
  /// The total weight of part p (the last: the rest).
  double total(std::size_t part) const { return totals_.at(part); }

 private:
  std::vector<std::uint8_t> part_of_;  // per element
  std::vector<double> sum_;
  std::vector<double> totals_;
};

/// Weighted mean of client parameter buffers, `sum_k w_k x_k / sum_k w_k`, accumulated in double
/// in the order the clients are given (the caller passes them in client-id order, so the result
/// does not depend on which worker finished first). FedAvg calls it with the clients' training
/// sample counts as weights (McMahan et al. 2017; Flower's `aggregate`).
/// Throws std::invalid_argument for no clients, mismatched lengths or non-positive total weight.
FlatParams weighted_mean(const std::vector<const FlatParams*>& clients,
                         const std::vector<double>& weights);

/// True when every value of `params` is finite (no NaN or infinity).
bool all_finite(const FlatParams& params);

}  // namespace fedglioma
