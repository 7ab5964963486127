#pragma once

#include <cstddef>
#include <exception>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "sim/config/experiment_config.h"

namespace fedglioma::models {
class Model;
}

namespace fedglioma::sim {

/// Refuses runtime.workers x runtime.threads_per_worker beyond 4x this machine's hardware threads
/// (ConfigError naming both keys): more only thrash, and thousands fail to start at all.
void check_thread_budget(const RuntimeConfig& runtime);

/// The devices process `local_rank` of `world` computes on (runtime.devices), once the CPU numerics
/// it asks for are checked (require_cpu_numerics) and CUDA determinism is set as configured: what
/// every subcommand that runs the network does before it builds its workers.
std::vector<std::string> prepare_devices(const RuntimeConfig& runtime, int local_rank = 0, int world = 1);

/// One worker: a thread's device and its own model replica. Virtual clients borrow a worker for
/// a task; nothing of a client stays in it.
struct Worker {
  std::size_t index = 0;
  c10::Device device{c10::kCPU};
  std::shared_ptr<models::Model> model;
};

/// Runs tasks on `workers` threads, each bound to a device round-robin and holding its own
/// model replica (built here by models::make_model, on the calling thread). On CPU each thread uses
/// `threads_per_worker` intra-op threads; on CUDA each runs on its own stream.
class Executor {
 public:
  Executor(std::size_t workers, int threads_per_worker, const std::vector<std::string>& devices,
           const ModelConfig& model);

  /// Runs task(worker, i) for every i in [0, count) and waits for all of them. Tasks are taken
  /// in index order by whichever worker is free; a task's exception is captured and returned at
  /// its index (null when it succeeded), so one failing client does not stop the others.
  std::vector<std::exception_ptr> run(std::size_t count,
                                      const std::function<void(Worker&, std::size_t)>& task);

  std::size_t size() const { return workers_.size(); }
  const Worker& worker(std::size_t i) const { return *workers_[i]; }

 private:
  std::vector<std::unique_ptr<Worker>> workers_;
  int threads_per_worker_;
};

}  // namespace fedglioma::sim
