#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "core/aggregate.h"
#include "sim/train/client_training.h"
#include "sim/record/run_log.h"
#include "sim/run/round_hooks.h"
#include "sim/run/simulated_time.h"

namespace fedglioma::sim {

class ClientStateStore;
class DpMechanism;
class Executor;
class Processes;
class RoundAggregator;
class RoundProgress;
class Strategy;
struct Worker;

/// The clients as the loop sees them, in client-id order (the aggregation order), and the rules
/// of participation (federation.dropout, min_clients, below_min_clients).
struct RoundLoopSettings {
  std::vector<std::string> client_ids;
  std::vector<std::size_t> client_samples;  ///< training cases per client (logged; simulated time)
  double dropout = 0.0;
  int min_clients = 1;
  bool stop_below_min_clients = false;
  bool keep_optimizer_state = false;  ///< train.keep_optimizer_state: kept in the ClientStateStore
  std::uint64_t seed = 0;
  /// The virtual clock's time of client i's participation in a round (sim/run/simulated_time.h);
  /// set when the clock orders arrivals (federation.deadline_s or federation.over_select).
  std::function<double(std::size_t client, int round)> arrival;
  double deadline_s = 0.0;   ///< > 0: updates arriving later are cancelled (status "late")
  double over_select = 0.0;  ///< extra clients selected, as a fraction of the strategy's selection
  /// federation.dp: Poisson sampling instead of the strategy's selection, the noised aggregate,
  /// a round never skipped (its noise is released), the privacy record, target_epsilon. Null: off.
  DpMechanism* dp = nullptr;
};

/// The settings of a run's round loop from its config: the clients, dropout, min_clients,
/// optimizer state, seed, and the virtual clock's arrivals for federation.deadline_s and
/// federation.over_select (`clock` outlives the settings).
RoundLoopSettings round_loop_settings(const ExperimentConfig& config, const Partition& partition, const SiteClock& clock);

/// The federated round, written once for every strategy and mode:
/// select -> configure -> train on the executor -> collect in client-id order -> aggregate ->
/// evaluate -> report -> checkpoint. Which clients take part, what each is asked and how updates
/// combine are the strategy's; a client that throws or returns non-finite weights or loss is
/// logged and left out of the aggregate; a round with fewer usable updates than min_clients
/// keeps the model (and stops the run with stop_below_min_clients). Every draw is keyed by
/// (seed, round, client), so a round does not depend on the number of workers. Across processes
/// (`processes`), each trains the selected clients it owns and every process receives every
/// update, folds them in the same client-id order and so holds the same model and state.
class RoundLoop {
 public:
  RoundLoop(Strategy& strategy, Executor& executor, ClientTrainer trainer, ClientStateStore& client_state,
            RoundLoopSettings settings, RoundProgress& progress, Processes& processes);

  /// Runs rounds `first` to `last` on `global`, fewer when federation.dp.target_epsilon stops the
  /// run (the last round taken is then evaluated and checkpointed as the last, its privacy record
  /// says why); returns the last round taken. Throws Error when a skipped round stops the run
  /// (after reporting it), ConfigError when even round 1 would exceed the target.
  int run(int first, int last, FlatParams& global, const RoundHooks& hooks);

  /// One round's training and aggregation (no evaluation): the record with every selected client.
  RoundRecord train_round(int round, FlatParams& global);

 private:
  struct Outcome;
  std::vector<std::size_t> participants(int round, RoundRecord& record) const;
  std::optional<std::string> stop_before(int round) const;
  std::vector<std::size_t> with_extra_clients(std::vector<std::size_t> selected, int round) const;
  std::vector<std::size_t> on_time(const std::vector<std::size_t>& candidates, std::size_t wanted, int round,
                                   RoundRecord& record) const;
  std::vector<Outcome> train_and_add(int round, const FlatParams& global, const std::vector<std::size_t>& training,
                                     RoundAggregator& aggregator);

  Strategy& strategy_;
  Executor& executor_;
  ClientTrainer trainer_;
  ClientStateStore& client_state_;
  RoundLoopSettings settings_;
  RoundProgress& progress_;
  Processes& processes_;
};

}  // namespace fedglioma::sim
