#pragma once

#include <array>

namespace fedglioma::models {

/// Per-task weights of the multi-task loss (config `train.loss_weights`).
struct LossWeights {
  double mask = 1.0;
  std::array<double, 4> markers{1.0, 1.0, 1.0, 1.0};  ///< kMarkers order
  /// BCE weight of the positive class per marker (pos_weight: negatives / positives balances them).
  std::array<double, 4> positive{1.0, 1.0, 1.0, 1.0};
  /// 3-class grade: cross-entropy weight of WHO grade 2, 3, 4.
  std::array<double, 3> grade_class{1.0, 1.0, 1.0};
};

}  // namespace fedglioma::models
