#pragma once

#include <vector>

namespace fedglioma {

/// One flat parameter buffer: every tensor of a model's state, concatenated in a fixed order.
using FlatParams = std::vector<float>;

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
