#pragma once

#include <string>
#include <vector>

#include "sim/config/experiment_config.h"
#include "sim/record/run_log.h"

namespace fedglioma::sim {

/// Refuses per-client settings of federation.simulated_time (site_samples_per_second,
/// site_megabits_per_second) for a client that `client_ids` does not hold: they would be ignored
/// without a word. ConfigError names the key, the client and the clients there are.
void check_simulated_time_clients(const SimulatedTimeConfig& config, const std::vector<std::string>& client_ids);

/// Adds federation.simulated_time to a round's record when enabled: each client's compute time,
/// (training samples x local epochs) / samples per second, plus two transfers of a model of
/// `model_megabits` at its megabits per second (per-client values override the defaults); the
/// round takes its slowest client's time. Clients that dropped out take none.
void add_simulated_time(RoundRecord& record, const SimulatedTimeConfig& config, int local_epochs,
                        double model_megabits);

}  // namespace fedglioma::sim
