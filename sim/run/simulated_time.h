#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "sim/clients/partition.h"
#include "sim/config/experiment_config.h"
#include "sim/record/run_log.h"

namespace fedglioma::sim {

/// Refuses per-client settings of federation.simulated_time (site_samples_per_second,
/// site_megabits_per_second) for a client that `client_ids` does not hold: they would be ignored
/// without a word. ConfigError names the key, the client and the clients there are.
void check_simulated_time_clients(const SimulatedTimeConfig& config, const std::vector<std::string>& client_ids);

/// One participation of a client on the virtual clock, in simulated seconds: the model's
/// download, the local training, the update's upload.
struct Participation {
  double download = 0.0, compute = 0.0, upload = 0.0;
  double total() const { return compute + (download + upload); }
};

/// The virtual clock of a run (federation.simulated_time): how long each client's participation
/// in a round takes. Without a profile: (training samples x local epochs) / samples per second,
/// and the model's megabits / megabits per second each way (per-client values override the
/// defaults). With profile "fets2022" each client is assigned one of the FeTS challenge's 21
/// compute and 16 network profiles by a seeded draw (sim/run/fets_profiles.h), and each
/// participation draws its times as FeTS does, max(1, N(mean, sd)) seconds: training per patient
/// (times samples x epochs), download, upload (the FeTS model's measured times, not rescaled).
/// `jitter` then scales all three by one factor from U(1 - jitter, 1 + jitter). Every draw comes
/// from a generator keyed by (seed, round, client): the same on every thread and process, and
/// after a resume.
class SiteClock {
 public:
  SiteClock(const SimulatedTimeConfig& config, std::vector<std::string> client_ids, std::vector<std::size_t> samples,
            int local_epochs, double model_megabits, std::uint64_t seed);

  Participation participation(std::size_t client, int round) const;

 private:
  SimulatedTimeConfig config_;
  std::vector<std::string> ids_;
  std::vector<std::size_t> samples_;
  int local_epochs_;
  double model_megabits_;
  std::uint64_t seed_;
  std::vector<std::size_t> compute_profile_, network_profile_;  ///< fets2022: each client's
};

/// The clients' ids, in partition order (the clock's and the records' client order).
std::vector<std::string> client_ids(const Partition& partition);

/// The run's clock over the clients' training cases, for a model of `model_megabits`.
std::unique_ptr<SiteClock> make_site_clock(const ExperimentConfig& config, const Partition& partition,
                                           double model_megabits);

/// Adds the clock's times to a round's record when federation.simulated_time is enabled: each
/// client's participation (`simulated_seconds`), and the round's: its slowest client's, capped at
/// `deadline_s` (> 0) when a client was late (the server waited until the deadline), or the
/// arrival of the round's last accepted update when extra clients were selected. Clients that
/// dropped out take none.
void add_simulated_time(RoundRecord& record, const SiteClock& clock, const std::vector<std::string>& client_ids,
                        double deadline_s);

}  // namespace fedglioma::sim
