#include "sim/workers/executor.h"

#include <ATen/Parallel.h>

#include <algorithm>
#include <atomic>
#include <string>
#include <thread>

#include "core/devices.h"
#include "core/error.h"
#include "core/numerics.h"
#include "models/model.h"
#include "models/model_factory.h"

#ifdef FEDGLIOMA_WITH_CUDA
#include <c10/cuda/CUDAGuard.h>
#include <c10/cuda/CUDAStream.h>
#endif

namespace fedglioma::sim {

// Workers x intra-op threads beyond what the machine runs only thrash, and at a few thousand
// threads OpenMP and std::thread fail to start them: refused up front, at 4x the hardware threads.
std::vector<std::string> prepare_devices(const RuntimeConfig& runtime, int local_rank, int world) {
  require_cpu_numerics(runtime.cpu_numerics);
  std::vector<std::string> devices =
      devices_of_local_rank(runtime.devices, resolve_devices(runtime.devices), local_rank, world);
  set_cuda_determinism(runtime.deterministic, devices.front() != "cpu");
  return devices;
}

void check_thread_budget(const RuntimeConfig& rt) {
  const long hardware = std::max(1L, static_cast<long>(std::thread::hardware_concurrency()));
  const long threads = static_cast<long>(rt.workers) * rt.threads_per_worker;
  if (threads > 4 * hardware)
    throw ConfigError("runtime.workers x runtime.threads_per_worker = " + std::to_string(rt.workers) + " x " +
                      std::to_string(rt.threads_per_worker) + " = " + std::to_string(threads) +
                      " threads, more than this machine runs (at most 4 x its " + std::to_string(hardware) +
                      " hardware threads = " + std::to_string(4 * hardware) + "); lower either");
}

Executor::Executor(std::size_t workers, int threads_per_worker, const std::vector<std::string>& devices,
                   const ModelConfig& model)
    : threads_per_worker_(threads_per_worker) {
  TORCH_INTERNAL_ASSERT(workers >= 1 && !devices.empty() && threads_per_worker >= 1);
  for (std::size_t i = 0; i < workers; ++i) {
    auto worker = std::make_unique<Worker>();
    worker->index = i;
    worker->device = c10::Device(devices[i % devices.size()]);
    worker->model = models::make_model(model);
    worker->model->to(worker->device);
    workers_.push_back(std::move(worker));
  }
}

std::vector<std::exception_ptr> Executor::run(std::size_t count,
                                              const std::function<void(Worker&, std::size_t)>& task) {
  std::vector<std::exception_ptr> errors(count);
  std::atomic<std::size_t> next{0};
  auto loop = [&](Worker& worker) {
    // Intra-op threads are fixed per worker so that results do not depend on the worker count.
    at::set_num_threads(threads_per_worker_);
#ifdef FEDGLIOMA_WITH_CUDA
    std::optional<c10::cuda::CUDAStreamGuard> stream;
    if (worker.device.is_cuda())
      stream.emplace(c10::cuda::getStreamFromPool(false, worker.device.index()));
#endif
    for (std::size_t i = next.fetch_add(1); i < count; i = next.fetch_add(1)) {
      try {
        task(worker, i);
      } catch (...) {
        errors[i] = std::current_exception();
      }
    }
#ifdef FEDGLIOMA_WITH_CUDA
    if (worker.device.is_cuda()) c10::cuda::getCurrentCUDAStream(worker.device.index()).synchronize();
#endif
  };
  if (workers_.size() == 1) {
    loop(*workers_.front());
    return errors;
  }
  std::vector<std::thread> threads;
  for (auto& worker : workers_) threads.emplace_back(loop, std::ref(*worker));
  for (auto& t : threads) t.join();
  return errors;
}

}  // namespace fedglioma::sim
