#pragma once

#include <memory>

#include "sim/strategy/strategy.h"

namespace fedglioma::sim {

/// Local mode (federation.mode "local"): each client trains its own model from the initial one,
/// round after round, keeps it (in StrategyContext::client_state) and deploys it; nothing is
/// aggregated and the global model stays the initial one.
std::unique_ptr<Strategy> make_local_strategy(const StrategyContext& context);

}  // namespace fedglioma::sim
