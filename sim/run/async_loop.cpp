#include "sim/run/async_loop.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <mutex>
#include <utility>

#include "core/error.h"
#include "core/random.h"
#include "sim/privacy/dp_mechanism.h"
#include "sim/processes/processes.h"
#include "sim/record/progress.h"
#include "sim/run/client_failure.h"
#include "sim/run/staleness.h"
#include "sim/strategy/aggregators.h"
#include "sim/strategy/strategy.h"
#include "sim/train/update_exchange.h"
#include "sim/workers/executor.h"

namespace fedglioma::sim {

// An update the server accepted into the buffer (FedBuff) or mixes in (FedAsync).
struct AsyncLoop::Arrived {
  InFlight job;
  ClientUpdate update;
  double weight = 1.0;  // s(tau)
};

// What arrived since the last server step: the accepted updates and every arrival's record;
// complete once it holds K accepted ones, incomplete when the budget ended the run first.
struct AsyncLoop::Pending {
  std::vector<Arrived> buffer;
  std::vector<ClientRecord> records;
  bool complete = false;
};

AsyncSettings async_settings(const ExperimentConfig& config, const Partition& partition, const SiteClock& clock) {
  const FederationConfig& fed = config.federation;
  AsyncSettings s;
  for (const Client& c : partition.clients) {
    s.client_ids.push_back(c.id);
    s.client_samples.push_back(c.train.size());
  }
  s.seed = config.runtime.seed;
  s.fedasync = fed.aggregation == "fedasync";
  s.concurrency = fed.concurrency > 0 ? static_cast<std::size_t>(fed.concurrency) : partition.clients.size();
  s.buffer_size = s.fedasync ? 1 : static_cast<std::size_t>(fed.buffer_size);
  s.server_lr = fed.server_lr;
  s.mixing = fed.mixing;
  s.max_staleness = fed.max_staleness;
  s.staleness = fed.staleness;
  s.budget_s = fed.simulated_time.budget_s;
  s.clock = [&clock](std::size_t client, int participation) { return clock.participation(client, participation); };
  return s;
}

void check_async_clients(const FederationConfig& fed, std::size_t clients) {
  if (fed.aggregation == "synchronous") return;
  const std::string n = std::to_string(clients);
  if (static_cast<std::size_t>(fed.concurrency) > clients)
    throw ConfigError("federation.concurrency = " + std::to_string(fed.concurrency) + " exceeds the " + n +
                      " client(s) of this partition: a slot would never be filled; at most " + n);
  if (fed.aggregation == "fedbuff" && static_cast<std::size_t>(fed.buffer_size) > clients)
    throw ConfigError("federation.buffer_size = " + std::to_string(fed.buffer_size) + " exceeds the " + n +
                      " client(s) of this partition: a buffer holds one update per client, so no step could fill it");
}

AsyncLoop::AsyncLoop(Strategy& strategy, Executor& executor, ClientTrainer trainer, AsyncSettings settings,
                     RoundProgress& progress, Processes& processes)
    : strategy_(strategy),
      executor_(executor),
      trainer_(std::move(trainer)),
      settings_(std::move(settings)),
      progress_(progress),
      processes_(processes) {
  state_.participations.assign(settings_.client_ids.size(), 0);
}

void AsyncLoop::restore(AsyncState state) {
  if (state.participations.size() != settings_.client_ids.size())
    throw IoError("the checkpoint's asynchronous server state is for " + std::to_string(state.participations.size()) +
                  " clients, not " + std::to_string(settings_.client_ids.size()));
  state_ = std::move(state);
  at_step_ = state_;
  started_ = true;
}

// Every free slot takes a client drawn uniformly from the idle ones (neither in flight nor waiting
// in the buffer), in client-id order, with a generator keyed by the dispatch's sequence number;
// it downloads the current global model at the clock's present time.
void AsyncLoop::fill_slots(const FlatParams& global, const std::vector<Arrived>& buffer) {
  std::vector<char> busy(settings_.client_ids.size(), 0);
  for (const InFlight& j : state_.in_flight) busy[j.client] = 1;
  for (const Arrived& a : buffer) busy[a.job.client] = 1;
  for (std::size_t i = 0; i < busy.size(); ++i)  // federation.dp.site_target_epsilon: a spent site sends no more
    if (settings_.dp && settings_.dp->retired(i)) busy[i] = 1;
  while (state_.in_flight.size() < settings_.concurrency) {
    std::vector<std::size_t> idle;
    for (std::size_t i = 0; i < busy.size(); ++i)
      if (!busy[i]) idle.push_back(i);
    if (idle.empty()) return;
    Rng rng(derive_seed(settings_.seed, state_.next_seq, 0, RngPurpose::kAsyncSelect));
    InFlight job;
    job.client = idle[rng.below(idle.size())];
    job.seq = state_.next_seq++;
    job.base_version = state_.version;
    job.participation = ++state_.participations[job.client];
    job.dispatched = state_.now;
    job.arrival = state_.now + settings_.clock(job.client, job.participation).total();
    if (!state_.models.count(state_.version)) state_.models[state_.version] = std::make_shared<const FlatParams>(global);
    state_.in_flight.push_back(job);
    busy[job.client] = 1;
  }
}

// Trains every participation in flight that has no result yet, at once on the executor (each
// process the ones it owns; then every process receives every result).
void AsyncLoop::train_untrained() {
  std::vector<InFlight> batch;
  for (const InFlight& j : state_.in_flight)
    if (!results_.count(j.seq)) batch.push_back(j);
  std::vector<std::size_t> mine;
  for (std::size_t k = 0; k < batch.size(); ++k)
    if (processes_.owns(batch[k].client)) mine.push_back(k);
  std::vector<Result> out(batch.size());
  std::mutex progress_mutex;
  progress_.begin(static_cast<int>(state_.version + 1), mine.size());
  const auto errors = executor_.run(mine.size(), [&](Worker& worker, std::size_t m) {
    const InFlight& job = batch[mine[m]];
    try {
      ClientTask task = strategy_.configure(job.client, *state_.models.at(job.base_version));
      task.model_version = job.base_version;
      out[mine[m]].update = trainer_(worker, task, job.client, job.participation);
    } catch (...) {
      out[mine[m]].error = std::current_exception();
    }
    std::lock_guard<std::mutex> lock(progress_mutex);
    progress_.client_done();
  });
  progress_.end();
  for (const auto& e : errors)  // the loop's own failures; a client's are its result
    if (e) std::rethrow_exception(e);
  if (processes_.size() > 1) {
    std::vector<ClientResult> sent;
    for (std::size_t k : mine)
      sent.push_back({k, out[k].error ? failure_message(out[k].error) : "", out[k].error ? ClientUpdate() : out[k].update});
    for (ClientResult& c : exchange_results(processes_, sent, ++batches_)) {
      if (c.index >= batch.size() || processes_.owns(batch[c.index].client)) continue;
      if (!c.error.empty()) out[c.index].error = std::make_exception_ptr(Error(c.error));
      else out[c.index].update = std::move(c.update);
    }
  }
  for (std::size_t k = 0; k < batch.size(); ++k) results_[batch[k].seq] = std::move(out[k]);
}

namespace {

ClientRecord arrival_record(const InFlight& job, const std::string& id, std::size_t samples, std::int64_t tau,
                            double duration) {
  ClientRecord c;
  c.id = id;
  c.samples = samples;
  c.base_version = job.base_version;
  c.staleness = tau;
  c.arrival_seconds = job.arrival;
  c.simulated_seconds = duration;
  return c;
}

}  // namespace

// Takes arrivals in the clock's order until the buffer holds K accepted updates, or until the next
// arrival falls after the budget (incomplete). A failed, non-finite or too stale update is logged
// and dropped; each arrival frees a slot, refilled at once (after the step for the K-th).
AsyncLoop::Pending AsyncLoop::gather(const FlatParams& global) {
  Pending p;
  while (p.buffer.size() < settings_.buffer_size) {
    if (state_.in_flight.empty()) return p;  // every site that could still send is retired
    const InFlight next = state_.earliest();
    if (settings_.budget_s > 0 && next.arrival > settings_.budget_s) return p;
    if (!results_.count(next.seq)) train_untrained();
    const InFlight job = state_.take(next.seq);
    Result r = std::move(results_.at(job.seq));
    results_.erase(job.seq);
    state_.now = job.arrival;
    const std::int64_t tau = state_.version - job.base_version;
    ClientRecord c = arrival_record(job, settings_.client_ids[job.client], settings_.client_samples[job.client], tau,
                                    job.arrival - job.dispatched);
    if (r.error) {
      rethrow_if_data_changed(r.error);
      c.status = "failed: " + failure_message(r.error);
    } else if (!all_finite(r.update.params) || !std::isfinite(r.update.train_loss)) {
      c.status = "non-finite update";
    } else if (settings_.max_staleness > 0 && tau > settings_.max_staleness) {
      c.status = std::string(kStale) + ": " + std::to_string(tau) + " server steps old, above federation.max_staleness = " +
                 std::to_string(settings_.max_staleness);
    } else {
      c.train_loss = r.update.train_loss;
      c.train_seconds = r.update.seconds;
      c.io_wait_seconds = r.update.io_wait_seconds;
      c.skipped_steps = r.update.skipped_steps;
      c.staleness_weight = staleness_weight(settings_.staleness, tau);
      p.buffer.push_back({job, std::move(r.update), *c.staleness_weight});
    }
    p.records.push_back(std::move(c));
    // The arrival that fills the buffer frees its slot at the step, which the new client then
    // downloads (apply refills); any other frees it now, at the same model.
    if (p.buffer.size() < settings_.buffer_size) fill_slots(global, p.buffer);
  }
  p.complete = true;
  return p;
}

// FedBuff's server step: the strategy's aggregator over the buffer's staleness-corrected models
// c_i = s w_i + (1 - s) b_i + (w - b_i), in client-id (then dispatch) order. Written so that a
// fresh update (b_i is w, bit for bit) at s = 1 is w_i exactly: K = concurrency = clients with
// constant staleness is then FedAvg's round to the bit.
void AsyncLoop::step_fedbuff(std::vector<Arrived>& buffer, FlatParams& global) {
  std::sort(buffer.begin(), buffer.end(), [](const Arrived& a, const Arrived& b) {
    return a.job.client != b.job.client ? a.job.client < b.job.client : a.job.seq < b.job.seq;
  });
  const int step = static_cast<int>(state_.version + 1);
  std::unique_ptr<RoundAggregator> aggregator = strategy_.aggregator(global);
  if (settings_.dp) aggregator = settings_.dp->aggregator(std::move(aggregator), global, step);
  for (Arrived& a : buffer) {
    require_weights(a.update, "FedBuff's buffer");
    // A fresh update (s(0) is 1) is its own corrected model: the loop would return w_i unchanged.
    if (a.job.base_version != state_.version || a.weight != 1.0) {
      const FlatParams& base = *state_.models.at(a.job.base_version);
      const float s = static_cast<float>(a.weight), keep = 1.0f - s;
      FlatParams& w = a.update.params;
      for (std::size_t k = 0; k < w.size(); ++k) w[k] = (s * w[k] + keep * base[k]) + (global[k] - base[k]);
    }
    aggregator->add(a.job.client, std::move(a.update));
  }
  std::optional<FlatParams> next = aggregator->finish();
  if (settings_.dp) privacy_ = settings_.dp->finish_round(step);
  if (!next) return;
  if (settings_.server_lr != 1.0) {
    const float eta = static_cast<float>(settings_.server_lr);
    for (std::size_t k = 0; k < next->size(); ++k) (*next)[k] = global[k] + eta * ((*next)[k] - global[k]);
  }
  global = std::move(*next);
}

// Applies the pending arrivals as server step version + 1, then refills the freed slots.
RoundRecord AsyncLoop::apply(Pending& pending, FlatParams& global) {
  RoundRecord record;
  record.round = static_cast<int>(state_.version + 1);
  record.clients = std::move(pending.records);
  record.simulated_seconds = state_.now - at_step_.now;
  record.clock_seconds = state_.now;
  if (settings_.fedasync) {
    const Arrived& a = pending.buffer.front();
    const float alpha = static_cast<float>(settings_.mixing * a.weight), keep = 1.0f - alpha;
    for (std::size_t k = 0; k < global.size(); ++k) global[k] = keep * global[k] + alpha * a.update.params[k];
  } else {
    step_fedbuff(pending.buffer, global);
    record.privacy = std::move(privacy_);
    privacy_.reset();
  }
  ++state_.version;
  state_.release_models();
  fill_slots(global, {});
  return record;
}

int AsyncLoop::run(int first, int last, FlatParams& global, const RoundHooks& hooks) {
  using Clock = std::chrono::steady_clock;
  if (!started_) {
    fill_slots(global, {});
    at_step_ = state_;
    started_ = true;
  }
  auto start = Clock::now();
  Pending pending = first <= last ? gather(global) : Pending{};
  if (first == 1 && !pending.complete)
    throw ConfigError(settings_.budget_s > 0 && !state_.in_flight.empty()
                          ? "federation.simulated_time.budget_s = " + std::to_string(settings_.budget_s) +
                                ": no server step completes within it; raise it"
                          : std::string("federation.dp.site_target_epsilon: every site is retired before the first "
                                        "server step; raise it"));
  if (settings_.dp && pending.complete)
    if (const auto stop = settings_.dp->stop_before(first, buffer_clients(pending))) {
      if (first == 1) throw ConfigError("federation.dp.target_epsilon: " + *stop + "; raise it or add noise");
      return first - 1;  // a resumed run that had stopped
    }
  int done = first - 1;
  for (int step = first; step <= last && pending.complete; ++step) {
    RoundRecord record = apply(pending, global);
    at_step_ = state_;
    bool final = step == last || !(pending = gather(global)).complete;
    if (!final && settings_.dp)  // the next step's release, charged to the sites its buffer holds
      if (const auto stop = settings_.dp->stop_before(step + 1, buffer_clients(pending))) {
        record.privacy->stopped = *stop;
        final = true;
      }
    if (hooks.annotate) hooks.annotate(record, global);
    if (hooks.evaluate) record.eval = hooks.evaluate(step, final);
    record.seconds = std::chrono::duration<double>(Clock::now() - start).count();
    start = Clock::now();
    hooks.report(record);
    if (hooks.checkpoint) hooks.checkpoint(step, final);
    done = step;
    if (final) break;
  }
  return done;
}

std::vector<std::size_t> AsyncLoop::buffer_clients(const Pending& pending) {
  std::vector<std::size_t> out;
  for (const Arrived& a : pending.buffer) out.push_back(a.job.client);
  return out;
}

}  // namespace fedglioma::sim
