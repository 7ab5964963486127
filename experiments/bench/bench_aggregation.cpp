// Aggregation throughput: GB/s of client updates reduced by each aggregation rule, next to a
// plain memory copy of the same bytes on the same machine (the practical ceiling).
//
//   build/fedglioma_bench_aggregation [clients] [millions of parameters per client]
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <string>
#include <vector>

#include "core/aggregate.h"
#include "core/aggregation_rules.h"
#include "core/numerics.h"
#include "core/random.h"


using namespace fedglioma;

namespace {

// Best of `repeats` timings, in seconds.
double best_seconds(int repeats, const std::function<void()>& work) {
  double best = 1e300;
  for (int r = 0; r < repeats; ++r) {
    const auto t0 = std::chrono::steady_clock::now();
    work();
    best = std::min(best, std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  }
  return best;
}

}  // namespace

int main(int argc, char** argv) {
  fedglioma::init_process_numerics();  // portable CPU kernels and CUDA determinism, as every run
  const std::size_t clients = argc > 1 ? std::strtoul(argv[1], nullptr, 10) : 8;
  const double millions = argc > 2 ? std::strtod(argv[2], nullptr) : 4.0;
  const auto n = static_cast<std::size_t>(millions * 1e6);
  std::vector<FlatParams> updates(clients, FlatParams(n));
  Rng rng(1);
  for (auto& u : updates)
    for (float& x : u) x = static_cast<float>(rng.normal());
  std::vector<const FlatParams*> ptrs;
  std::vector<double> weights;
  for (std::size_t k = 0; k < clients; ++k) {
    ptrs.push_back(&updates[k]);
    weights.push_back(static_cast<double>(k + 1));
  }
  const double gb = static_cast<double>(clients * n * sizeof(float)) / 1e9;
  std::printf("aggregation of %zu client updates x %.1f M float32 parameters (%.2f GB read per aggregate)\n",
              clients, millions, gb);
  std::printf("%-28s %10s %10s\n", "operation", "seconds", "GB/s");
  auto report = [&](const char* name, double seconds) {
    std::printf("%-28s %10.4f %10.2f\n", name, seconds, gb / seconds);
  };

  FlatParams sink(n);
  report("memcpy (ceiling)", best_seconds(5, [&] {
           for (const FlatParams& u : updates) std::memcpy(sink.data(), u.data(), n * sizeof(float));
         }));
  report("weighted_mean (FedAvg)", best_seconds(3, [&] { sink = weighted_mean(ptrs, weights); }));
  FlatParams global = updates.front();
  ServerOptimizerState state;
  // The server step touches four model-sized buffers (global, mean, m, v), not the clients'.
  const double adam = best_seconds(3, [&] { fedopt_step(global, sink, state, FedOptKind::kAdam, FedOptParams{}); });
  std::printf("%-28s %10.4f %10.2f  (GB/s of the four model-sized buffers it reads)\n", "FedAdam server step", adam,
              4.0 * static_cast<double>(n * sizeof(float)) / 1e9 / adam);
  if (clients <= 16) {
    report("coordinate_median", best_seconds(1, [&] { sink = coordinate_median(ptrs); }));
    report("trimmed_mean (beta 0.2)", best_seconds(1, [&] { sink = trimmed_mean(ptrs, 0.2); }));
  }
  report("krum (f = 1)", best_seconds(1, [&] { sink = krum(ptrs, weights, 1, 0); }));
  return 0;
}
