#pragma once

#include <cstddef>
#include <cstdint>
#include <exception>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/aggregate.h"
#include "sim/clients/partition.h"
#include "sim/config/experiment_config.h"
#include "sim/run/async_state.h"
#include "sim/run/round_hooks.h"
#include "sim/run/simulated_time.h"

namespace fedglioma::sim {

class DpMechanism;
class Executor;
class Processes;
class RoundProgress;
class Strategy;

/// The asynchronous federation's settings (federation.aggregation fedbuff or fedasync).
struct AsyncSettings {
  std::vector<std::string> client_ids;
  std::vector<std::size_t> client_samples;
  std::uint64_t seed = 0;
  bool fedasync = false;          ///< FedAsync's mixing; else FedBuff's buffer
  std::size_t concurrency = 1;    ///< clients in flight at once
  std::size_t buffer_size = 1;    ///< FedBuff's K (FedAsync: 1)
  double server_lr = 1.0;         ///< FedBuff's eta_g
  double mixing = 0.6;            ///< FedAsync's alpha
  std::int64_t max_staleness = 0;  ///< > 0: older updates are dropped (status "stale")
  StalenessConfig staleness;
  double budget_s = 0.0;          ///< > 0: no update arriving later is applied
  /// The virtual clock: client i's n-th participation.
  std::function<Participation(std::size_t client, int participation)> clock;
  /// federation.dp (FedBuff only): each server step's buffer clipped, noised and charged to its
  /// sites; target_epsilon ends the run. Null: off.
  DpMechanism* dp = nullptr;
};

/// The settings of `config`'s asynchronous federation over `partition` on `clock` (which
/// outlives them); concurrency 0 means every client.
AsyncSettings async_settings(const ExperimentConfig& config, const Partition& partition, const SiteClock& clock);

/// Refuses (ConfigError naming the key) federation.concurrency or federation.buffer_size above
/// the `clients` of the partition: more slots than clients, or a buffer no step could fill.
void check_async_clients(const FederationConfig& federation, std::size_t clients);

/// Asynchronous federation on the virtual clock: FedBuff (Nguyen et al., AISTATS 2022, "Federated
/// Learning with Buffered Asynchronous Aggregation") and FedAsync (Xie et al. 2019, "Asynchronous
/// Federated Optimization").
///
/// `concurrency` clients are in flight at once, each training from the global model it
/// downloaded. Arrivals are applied in the clock's order (arrives_before): FedBuff adds each to a
/// buffer and after K of them takes a server step with the strategy's own aggregator (FedAvg's
/// mean, FedAvgM's or FedOpt's server optimizer, label-aware weights) over the buffer's
/// staleness-corrected models w + s(tau) (w_i - base_i), so the step moves the global model by
/// sum_i n_i s(tau_i) (w_i - base_i) / sum_i n_i, times eta_g for the plain mean: the paper's
/// 1/K with each client weighted by its training cases, and staleness shrinking the step rather
/// than being normalised away. FedAsync mixes each arrival in at once: x <- (1 - a) x + a w_i,
/// a = alpha s(tau). tau is the number of server steps between a client's download and its
/// arrival; an update older than max_staleness, or one that failed, is logged and dropped.
///
/// A freed slot is refilled at once by a client drawn uniformly from the idle ones (a generator
/// keyed by the seed and the dispatch's sequence number), which downloads the current model; the
/// slot of the arrival that triggers a server step is refilled after that step. A client whose update waits in the
/// buffer is not idle until the step applies it, so no buffer holds two updates of one client and
/// with K = concurrency = clients a step is a synchronous FedAvg round. Clients are trained on
/// the executor as soon as the model they start from is known, many at once; only their order of
/// application is the clock's. Across processes each trains the clients it owns and every
/// process receives every result, so all hold the same model, clock and state.
class AsyncLoop {
 public:
  AsyncLoop(Strategy& strategy, Executor& executor, ClientTrainer trainer, AsyncSettings settings,
            RoundProgress& progress, Processes& processes);

  /// Continues from a checkpoint's state (resume); without it the run starts at time 0 with every
  /// slot filled from the initial model.
  void restore(AsyncState state);
  /// The state at the last server step: what a checkpoint holds.
  const AsyncState& checkpoint_state() const { return at_step_; }

  /// Runs server steps `first` to `last` on `global`, fewer when the simulated-time budget ends
  /// the run (the last step is then evaluated and checkpointed as the last); returns the last
  /// step taken.
  int run(int first, int last, FlatParams& global, const RoundHooks& hooks);

 private:
  struct Result {  // a participation's training: its update, or why it has none
    std::exception_ptr error;
    ClientUpdate update;
  };
  struct Arrived;
  struct Pending;
  void fill_slots(const FlatParams& global, const std::vector<Arrived>& buffer);
  Pending gather(const FlatParams& global);
  void train_untrained();
  RoundRecord apply(Pending& pending, FlatParams& global);
  void step_fedbuff(std::vector<Arrived>& buffer, FlatParams& global);
  static std::vector<std::size_t> buffer_clients(const Pending& pending);

  Strategy& strategy_;
  Executor& executor_;
  ClientTrainer trainer_;
  AsyncSettings settings_;
  RoundProgress& progress_;
  Processes& processes_;
  AsyncState state_, at_step_;
  bool started_ = false;
  std::map<std::uint64_t, Result> results_;  ///< trained participations still in flight, by seq
  int batches_ = 0;                          ///< training batches (the exchange's tag across processes)
  std::optional<PrivacyRecord> privacy_;     ///< federation.dp: the last step's, until its record takes it
};

}  // namespace fedglioma::sim
