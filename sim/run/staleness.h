#pragma once

#include <cstdint>

#include "sim/config/experiment_config.h"

namespace fedglioma::sim {

/// s(tau), how much an asynchronous update counts when `tau` server steps were applied between
/// its client's download and its arrival (federation.staleness): `constant` 1; `polynomial`
/// 1 / (1 + tau)^exponent (FedBuff's and FedAsync's default with exponent 0.5: 1 / sqrt(1 + tau));
/// `hinge` 1 while tau <= b, then 1 / (a (tau - b) + 1) (Xie et al. 2019, "Asynchronous Federated
/// Optimization", section 5.1). std::logic_error for an unknown function (the schema refuses it).
double staleness_weight(const StalenessConfig& config, std::int64_t tau);

}  // namespace fedglioma::sim
