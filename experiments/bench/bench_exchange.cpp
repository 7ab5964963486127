// The cost of the process boundary: seconds per allgather of one round's client updates between
// the ranks of a run (c10d Gloo over TCP), for payloads the size of k clients' flat float32
// updates. Run under a launch environment, one process per rank (scripts/bench_processes.sh):
//
//   WORLD_SIZE=2 RANK=r MASTER_ADDR=127.0.0.1 MASTER_PORT=P build/fedglioma_bench_exchange [M params] [clients]
//
// Rank 0 prints, per payload: bytes each rank sends and receives, the best of 5 allgathers, GB/s.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "core/error.h"
#include "sim/processes/processes.h"

int main(int argc, char** argv) {
  using namespace fedglioma::sim;
  try {
    const double millions = argc > 1 ? std::strtod(argv[1], nullptr) : 5.70;
    const int clients = argc > 2 ? std::atoi(argv[2]) : 5;
    const LaunchEnv env = read_launch_env();
    const auto processes = join_processes(env, "bench", std::chrono::seconds(120));
    const int world = processes->size();
    for (int k = 1; k <= clients; k = k < clients ? std::min(clients, k * 2) : clients + 1) {
      // Rank r sends the updates of its share of k clients (client i % world == r).
      const int mine = k / world + (processes->rank() < k % world ? 1 : 0);
      const std::string payload(static_cast<std::size_t>(mine * millions * 1e6 * 4), '\1');
      double best = 1e300;
      std::size_t received = 0;
      for (int repeat = 0; repeat < 5; ++repeat) {
        const auto t0 = std::chrono::steady_clock::now();
        const auto all = processes->allgather(payload, "bench");
        best = std::min(best, std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
        received = 0;
        for (const auto& bytes : all) received += bytes.size();
      }
      if (processes->rank() == 0)
        std::printf("%d rank(s), %d client(s) x %.2f M params: rank 0 sends %.1f MB, receives %.1f MB: %.3f s (%.2f GB/s in)\n",
                    world, k, millions, payload.size() / 1e6, received / 1e6, best, received / best / 1e9);
    }
    processes->allgather({}, "the end");
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench_exchange: %s\n", fedglioma::message_of(e).c_str());
    return 1;
  }
}
