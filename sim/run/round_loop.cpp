#include "sim/run/round_loop.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cmath>
#include <exception>
#include <mutex>

#include "core/error.h"
#include "core/random.h"
#include "sim/privacy/dp_mechanism.h"
#include "sim/run/client_failure.h"
#include "sim/state/client_state.h"
#include "sim/train/update_exchange.h"
#include "sim/workers/executor.h"
#include "sim/processes/processes.h"
#include "sim/record/progress.h"
#include "sim/strategy/strategy.h"

namespace fedglioma::sim {
namespace {

constexpr const char* kOptimizer = "optimizer";  // train.keep_optimizer_state: the client's serialised optimizer

}  // namespace

// What became of one training client, as far as its record is concerned.
struct RoundLoop::Outcome {
  std::exception_ptr error;
  bool usable = false;
  double train_loss = 0.0, io_wait_seconds = 0.0, seconds = 0.0;
  std::int64_t skipped_steps = 0;
  std::string optimizer_state;
};

RoundLoopSettings round_loop_settings(const ExperimentConfig& config, const Partition& partition, const SiteClock& clock) {
  RoundLoopSettings settings;
  for (const Client& c : partition.clients) {
    settings.client_ids.push_back(c.id);
    settings.client_samples.push_back(c.train.size());
  }
  settings.dropout = config.federation.dropout;
  settings.min_clients = config.federation.min_clients;
  settings.stop_below_min_clients = config.federation.below_min_clients == "stop";
  settings.keep_optimizer_state = config.train.keep_optimizer_state;
  settings.seed = config.runtime.seed;
  const FederationConfig& fed = config.federation;
  if (fed.deadline_s > 0 || fed.over_select > 0)
    settings.arrival = [&clock](std::size_t client, int round) { return clock.participation(client, round).total(); };
  settings.deadline_s = fed.deadline_s;
  settings.over_select = fed.over_select;
  return settings;
}

RoundLoop::RoundLoop(Strategy& strategy, Executor& executor, ClientTrainer trainer, ClientStateStore& client_state,
                     RoundLoopSettings settings, RoundProgress& progress, Processes& processes)
    : strategy_(strategy),
      executor_(executor),
      trainer_(std::move(trainer)),
      client_state_(client_state),
      settings_(std::move(settings)),
      progress_(progress),
      processes_(processes) {}

// The strategy's selection (with federation.over_select's extra clients), less the clients that
// drop out (a draw per round and client) and, on the virtual clock, those that would arrive too
// late or after the round had its updates.
std::vector<std::size_t> RoundLoop::participants(int round, RoundRecord& record) const {
  const std::vector<std::size_t> chosen = settings_.dp ? settings_.dp->participants(round) : strategy_.select(round);
  std::vector<std::size_t> candidates;
  for (std::size_t i : with_extra_clients(chosen, round)) {
    ClientRecord c;
    c.id = settings_.client_ids[i];
    c.samples = settings_.client_samples[i];
    Rng dropout(derive_seed(settings_.seed, static_cast<std::uint64_t>(round), i, RngPurpose::kDropout));
    if (settings_.dropout > 0 && dropout.bernoulli(settings_.dropout)) c.status = kDroppedOut;
    else candidates.push_back(i);
    record.clients.push_back(c);
  }
  return settings_.arrival ? on_time(candidates, chosen.size(), round, record) : candidates;
}

// federation.over_select: ceil(fraction x selected) more clients, drawn from the others with a
// generator of the round's, the whole selection then in client-id order.
std::vector<std::size_t> RoundLoop::with_extra_clients(std::vector<std::size_t> selected, int round) const {
  if (settings_.over_select <= 0) return selected;
  std::vector<std::size_t> others;
  for (std::size_t i = 0; i < settings_.client_ids.size(); ++i)
    if (std::find(selected.begin(), selected.end(), i) == selected.end()) others.push_back(i);
  const auto extra = std::min(others.size(), static_cast<std::size_t>(std::ceil(
                                                 settings_.over_select * static_cast<double>(selected.size()) - 1e-9)));
  Rng rng(derive_seed(settings_.seed, static_cast<std::uint64_t>(round), 0, RngPurpose::kOverSelect));
  for (std::size_t k = 0; k < extra; ++k) {  // a partial Fisher-Yates shuffle
    std::swap(others[k], others[k + rng.below(others.size() - k)]);
    selected.push_back(others[k]);
  }
  std::sort(selected.begin(), selected.end());
  return selected;
}

// The candidates whose update reaches the server in time: by the clock's arrival (ties by client
// id), at most `wanted` of them, none after the deadline. The others are marked late (the server
// cancels their task at the deadline: their work and what they would keep from it are discarded)
// or surplus (an extra client arriving after the round had its updates).
std::vector<std::size_t> RoundLoop::on_time(const std::vector<std::size_t>& candidates, std::size_t wanted, int round,
                                            RoundRecord& record) const {
  std::vector<std::pair<double, std::size_t>> arrivals;
  for (std::size_t i : candidates) arrivals.emplace_back(settings_.arrival(i, round), i);
  std::sort(arrivals.begin(), arrivals.end());
  std::vector<std::size_t> kept;
  for (const auto& [seconds, i] : arrivals) {
    const bool late = settings_.deadline_s > 0 && seconds > settings_.deadline_s;
    char status[160];
    if (late)
      std::snprintf(status, sizeof status, "%s: its update would arrive at %.1f s, after the %.1f s deadline", kLate,
                    seconds, settings_.deadline_s);
    else if (kept.size() >= wanted)
      std::snprintf(status, sizeof status, "%s: its update would arrive at %.1f s, after the round's %zu updates",
                    kSurplus, seconds, wanted);
    if (!late && kept.size() < wanted) {
      kept.push_back(i);
      continue;
    }
    for (ClientRecord& c : record.clients)
      if (c.id == settings_.client_ids[i]) c.status = status;
  }
  std::vector<std::size_t> in_order;  // the candidates' order, which the record's follows
  for (std::size_t i : candidates)
    if (std::find(kept.begin(), kept.end(), i) != kept.end()) in_order.push_back(i);
  return in_order;
}

// Trains the clients of `training` this process owns on the executor and hands every update to
// `aggregator` in client-id order as far as they have arrived; across processes, the others'
// updates arrive through the exchange. Returns what became of each.
std::vector<RoundLoop::Outcome> RoundLoop::train_and_add(int round, const FlatParams& global,
                                                         const std::vector<std::size_t>& training,
                                                         RoundAggregator& aggregator) {
  const bool shared = processes_.size() > 1;
  std::vector<std::size_t> mine;  // positions in `training` this process trains
  for (std::size_t j = 0; j < training.size(); ++j)
    if (processes_.owns(training[j])) mine.push_back(j);
  std::vector<ClientUpdate> updates(training.size());
  std::vector<Outcome> outcomes(training.size());
  std::vector<char> done(training.size(), 0);
  std::vector<ClientResult> sent(shared ? mine.size() : 0);
  std::size_t next_in_order = 0;
  std::mutex order_mutex;
  // A streaming aggregator frees each update at once, so a round holds about one per worker.
  auto drain = [&] {
    for (; next_in_order < training.size() && done[next_in_order]; ++next_in_order) {
      Outcome& o = outcomes[next_in_order];
      ClientUpdate& u = updates[next_in_order];
      o.usable = !o.error && all_finite(u.params) && std::isfinite(u.train_loss);
      if (!o.usable) continue;
      o.train_loss = u.train_loss;
      o.io_wait_seconds = u.io_wait_seconds;
      o.seconds = u.seconds;
      o.skipped_steps = u.skipped_steps;
      o.optimizer_state = std::move(u.optimizer_state);
      aggregator.add(training[next_in_order], std::move(u));
      u = ClientUpdate();
    }
  };
  progress_.begin(round, mine.size());
  const auto errors = executor_.run(mine.size(), [&](Worker& worker, std::size_t k) {
    const std::size_t j = mine[k], i = training[j];
    try {
      ClientTask task = strategy_.configure(i, global);
      task.model_version = round - 1;  // the global model after round - 1 aggregations
      if (settings_.keep_optimizer_state) task.optimizer_state = client_state_.text(i, kOptimizer);
      updates[j] = trainer_(worker, task, i, round);
    } catch (...) {
      outcomes[j].error = std::current_exception();
    }
    if (shared) sent[k] = {j, outcomes[j].error ? failure_message(outcomes[j].error) : "", outcomes[j].error ? ClientUpdate() : updates[j]};
    std::lock_guard<std::mutex> lock(order_mutex);
    done[j] = 1;
    drain();
    progress_.client_done();
  });
  progress_.end();
  for (const auto& e : errors)  // the aggregator's own failures; a client's are its outcome
    if (e) std::rethrow_exception(e);
  if (!shared) return outcomes;
  for (ClientResult& c : exchange_results(processes_, sent, round)) {
    if (c.index >= training.size() || done[c.index]) continue;  // our own, already added
    if (!c.error.empty()) outcomes[c.index].error = std::make_exception_ptr(Error(c.error));
    else updates[c.index] = std::move(c.update);
    done[c.index] = 1;
  }
  drain();
  return outcomes;
}

RoundRecord RoundLoop::train_round(int round, FlatParams& global) {
  RoundRecord record;
  record.round = round;
  const std::vector<std::size_t> training = participants(round, record);
  std::unique_ptr<RoundAggregator> aggregator = strategy_.aggregator(global);
  if (settings_.dp) aggregator = settings_.dp->aggregator(std::move(aggregator), global, round);
  std::vector<Outcome> outcomes = train_and_add(round, global, training, *aggregator);
  std::size_t accepted = 0;
  for (std::size_t j = 0, r = 0; j < training.size(); ++j) {
    while (record.clients[r].id != settings_.client_ids[training[j]]) ++r;
    ClientRecord& c = record.clients[r];
    Outcome& o = outcomes[j];
    if (o.error) {
      rethrow_if_data_changed(o.error);
      c.status = "failed: " + failure_message(o.error);
      continue;
    }
    if (!o.usable) {
      c.status = "non-finite update";
      continue;
    }
    c.train_loss = o.train_loss;
    c.io_wait_seconds = o.io_wait_seconds;
    c.train_seconds = o.seconds;
    c.skipped_steps = o.skipped_steps;
    if (settings_.keep_optimizer_state) client_state_.put_text(training[j], kOptimizer, std::move(o.optimizer_state));
    ++accepted;
  }
  const std::size_t needed = static_cast<std::size_t>(std::max(1, settings_.min_clients));
  if (accepted < needed && !settings_.dp) {
    // Too few usable updates: the model (and the strategy's state) stays as it is.
    record.skipped = std::to_string(accepted) + " usable update(s), fewer than federation.min_clients = " +
                     std::to_string(needed);
  } else if (std::optional<FlatParams> next = aggregator->finish()) {
    global = std::move(*next);
  }
  if (settings_.dp) record.privacy = settings_.dp->finish_round(round);
  return record;
}

// federation.dp.target_epsilon: why the run stops before `round`, or nullopt.
std::optional<std::string> RoundLoop::stop_before(int round) const {
  return settings_.dp ? settings_.dp->stop_before(round) : std::nullopt;
}

int RoundLoop::run(int first, int last, FlatParams& global, const RoundHooks& hooks) {
  using Clock = std::chrono::steady_clock;
  if (first <= last)
    if (const auto stop = stop_before(first)) {
      if (first == 1) throw ConfigError("federation.dp.target_epsilon: " + *stop + "; raise it or add noise");
      return first - 1;  // a resumed run that had stopped
    }
  for (int round = first; round <= last; ++round) {
    const auto start = Clock::now();
    RoundRecord record = train_round(round, global);
    const std::optional<std::string> stop = round < last ? stop_before(round + 1) : std::nullopt;
    if (stop) record.privacy->stopped = *stop;
    const bool final = round == last || stop;
    if (hooks.annotate) hooks.annotate(record, global);
    if (hooks.evaluate) record.eval = hooks.evaluate(round, final);
    record.seconds = std::chrono::duration<double>(Clock::now() - start).count();
    hooks.report(record);
    if (record.skipped && settings_.stop_below_min_clients)
      throw Error("round " + std::to_string(round) + ": " + *record.skipped +
                  "; stopping (federation.below_min_clients = \"stop\")");
    if (hooks.checkpoint) hooks.checkpoint(round, final);
    if (stop) return round;
  }
  return last;
}

}  // namespace fedglioma::sim
