// The asynchronous federation's own cost per server step (sim/run/async_loop.h): the event
// queue, the slots, the staleness correction and the strategy's aggregation of the buffer, with
// clients that do no training (each returns its start plus a constant). Printed next to the
// weighted mean of the same K updates alone (what a synchronous round's aggregation costs), so
// the machinery's share is the difference; both are to be read against a client's training time.
//
//   build/fedglioma_bench_async [clients] [concurrency] [K] [millions of parameters] [steps]
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <sstream>
#include <vector>

#include "core/aggregate.h"
#include "core/numerics.h"
#include "sim/processes/processes.h"
#include "sim/record/progress.h"
#include "sim/run/async_loop.h"
#include "sim/strategy/strategy.h"
#include "sim/strategy/strategy_registry.h"
#include "sim/workers/executor.h"

using namespace fedglioma;
using namespace fedglioma::sim;

namespace {

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

// The weighted mean of `k` updates of `n` parameters, as FedAvg folds them: seconds.
double mean_seconds(std::size_t k, std::size_t n, int repeats) {
  std::vector<FlatParams> updates(k, FlatParams(n, 0.5f));
  double best = 1e300;
  for (int r = 0; r < repeats; ++r) {
    const auto t0 = std::chrono::steady_clock::now();
    WeightedSum sum;
    for (const FlatParams& u : updates) sum.add(u, 1.0);
    const FlatParams mean = sum.mean();
    best = std::min(best, seconds_since(t0) + 0.0 * mean[0]);
  }
  return best;
}

// The asynchronous settings of the benchmark: `clients` sites of 10 cases whose participations
// take 10-20 simulated seconds, varying by client and participation.
AsyncSettings bench_settings(std::size_t clients, std::size_t concurrency, std::size_t k) {
  AsyncSettings settings;
  for (std::size_t i = 0; i < clients; ++i) {
    settings.client_ids.push_back("site-" + std::to_string(i));
    settings.client_samples.push_back(10);
  }
  settings.concurrency = concurrency;
  settings.buffer_size = k;
  settings.clock = [](std::size_t client, int participation) {
    Participation p;
    p.compute = 10.0 + static_cast<double>((client * 7 + static_cast<std::size_t>(participation) * 3) % 11);
    return p;
  };
  return settings;
}

}  // namespace

int main(int argc, char** argv) {
  init_process_numerics();
  const std::size_t clients = argc > 1 ? std::strtoul(argv[1], nullptr, 10) : 16;
  const std::size_t concurrency = argc > 2 ? std::strtoul(argv[2], nullptr, 10) : 8;
  const std::size_t k = argc > 3 ? std::strtoul(argv[3], nullptr, 10) : 4;
  const double millions = argc > 4 ? std::strtod(argv[4], nullptr) : 1.0;
  const int steps = argc > 5 ? std::atoi(argv[5]) : 50;
  const auto n = static_cast<std::size_t>(millions * 1e6);

  Executor executor(1, 1, {"cpu"}, ModelConfig{});
  StrategyContext context;
  context.num_clients = clients;
  auto strategy = make_strategy(StrategyConfig::defaults("fedavg"), context);
  std::ostringstream quiet;
  RoundProgress progress(quiet, false, 1, steps);
  SingleProcess processes;
  double client_seconds = 0.0;
  AsyncLoop loop(*strategy, executor,
                 [&](Worker&, const ClientTask& task, std::size_t, int) {
                   const auto t0 = std::chrono::steady_clock::now();
                   ClientUpdate u;
                   u.params = task.start;
                   for (float& x : u.params) x += 1e-3f;
                   u.weight = 10.0;
                   u.train_loss = 0.5;
                   client_seconds += seconds_since(t0);
                   return u;
                 },
                 bench_settings(clients, concurrency, k), progress, processes);
  FlatParams global(n, 0.0f);
  RoundHooks hooks;
  hooks.report = [](const RoundRecord&) {};
  const auto t0 = std::chrono::steady_clock::now();
  loop.run(1, steps, global, hooks);
  const double total = seconds_since(t0);
  const double per_step = (total - client_seconds) / steps, mean = mean_seconds(k, n, 5);
  std::printf("clients %zu, concurrency %zu, K %zu, %.2f M parameters, %d server steps\n", clients, concurrency, k,
              millions, steps);
  std::printf("  server step (events, slots, staleness correction, aggregation): %.3f ms\n", per_step * 1e3);
  std::printf("  of which the weighted mean of K updates alone:                 %.3f ms\n", mean * 1e3);
  std::printf("  the machinery beyond the mean:                                 %.3f ms per step\n",
              (per_step - mean) * 1e3);
  std::printf("  (the injected clients' own copies, excluded: %.3f ms per step)\n", client_seconds / steps * 1e3);
  return 0;
}
