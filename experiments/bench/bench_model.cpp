// Training throughput of MultiTaskUNet3D: samples per second and achieved GFLOP/s of a training
// step (forward + backward + Adam) for a given input size and model, next to the GFLOP/s of one
// large conv3d (forward) on the same device: the practical ceiling of this hardware and library.
//
//   build/fedglioma_bench_model [edge=64] [depth=5] [base_channels=16] [batch=1] [threads=2] [device=cpu] [amp=0]
//
// amp=1 times the step as train.mixed_precision runs it (sim/train/mixed_precision.h): autocast
// (float16 on CUDA, bfloat16 on CPU) with loss scaling on CUDA; the conv3d ceiling then also runs
// under autocast.
#include <ATen/Parallel.h>
#include <torch/nn/modules/conv.h>
#include <torch/optim/adam.h>
#include <torch/cuda.h>
#include <torch/utils.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "core/error.h"
#include "core/numerics.h"
#include "models/multitask_loss.h"
#include "models/model.h"
#include "models/model_factory.h"
#include "sim/train/mixed_precision.h"
#include "sim/state/model_state.h"

using Clock = std::chrono::steady_clock;

namespace {

double seconds(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

void sync(const c10::Device& device) {
  if (device.is_cuda()) torch::cuda::synchronize(device.index());
}

// The command line (see the top of this file): positional, each with its default.
struct BenchArgs {
  std::int64_t edge, depth, base, batch;
  int threads;
  c10::Device device;
  bool amp;
};

// The arguments as argv gives them, the defaults for those it leaves out.
BenchArgs parse_args(int argc, char** argv) {
  const std::int64_t edge = argc > 1 ? std::atoll(argv[1]) : 64;
  const std::int64_t depth = argc > 2 ? std::atoll(argv[2]) : 5;
  const std::int64_t base = argc > 3 ? std::atoll(argv[3]) : 16;
  const std::int64_t batch = argc > 4 ? std::atoll(argv[4]) : 1;
  const int threads = argc > 5 ? std::atoi(argv[5]) : 2;
  const c10::Device device(argc > 6 ? argv[6] : "cpu");
  const bool amp = argc > 7 && std::atoi(argv[7]) != 0;
  return {edge, depth, base, batch, threads, device, amp};
}

// Seconds per training step (forward, loss, backward, Adam) on random data, after one warm-up
// step: at least 3 steps and 5 s.
double seconds_per_step(fedglioma::models::Model& model, const BenchArgs& args) {
  using namespace fedglioma::models;
  const std::int64_t edge = args.edge, batch = args.batch;
  const c10::Device& device = args.device;
  const bool amp = args.amp;
  torch::optim::Adam optimizer(model.parameters(), torch::optim::AdamOptions(1e-4));
  const auto x = torch::randn({batch, 4, edge, edge, edge}, torch::TensorOptions().device(device));
  const auto mask =
      (torch::rand({batch, 1, edge, edge, edge}, torch::TensorOptions().device(device)) > 0.9).to(torch::kFloat32);
  const auto known = torch::ones({batch}, torch::TensorOptions().device(device));
  const LossTargets targets{mask, known, torch::ones({batch, 4}, torch::TensorOptions().device(device)),
                            known.unsqueeze(1).expand({batch, 4}),
                            torch::zeros({batch}, torch::TensorOptions().device(device).dtype(torch::kLong))};
  fedglioma::sim::GradScaler scaler(amp && device.is_cuda());
  auto step = [&] {
    optimizer.zero_grad();
    MultiTaskOutput out;
    {
      fedglioma::sim::AutocastScope autocast(device, amp);
      out = model.forward(x);
    }
    scaler.scale(multitask_loss(out, targets, LossWeights{}).total).backward();
    if (scaler.unscale_and_update(model.parameters())) optimizer.step();
  };
  step();  // warm-up
  sync(device);
  int steps = 0;
  const auto t0 = Clock::now();
  while (steps < 3 || seconds(t0) < 5.0) {
    step();
    ++steps;
  }
  sync(device);
  return seconds(t0) / steps;
}

int bench(int argc, char** argv) {
  const BenchArgs args = parse_args(argc, argv);
  const std::int64_t edge = args.edge, depth = args.depth, base = args.base, batch = args.batch;
  const int threads = args.threads;
  const c10::Device& device = args.device;
  const bool amp = args.amp;
  at::set_num_threads(threads);
  fedglioma::set_cuda_determinism(true, device.is_cuda());  // as runtime.deterministic's default
  torch::manual_seed(0);

  using namespace fedglioma::models;
  ModelConfig config;
  config.depth = depth;
  config.base_channels = base;
  const std::shared_ptr<Model> model = make_model(config);
  model->to(device);
  const double parameters = static_cast<double>(fedglioma::sim::parameter_count(*model));
  const double step_flops = 3.0 * model->forward_flops({edge, edge, edge}) * static_cast<double>(batch);
  const double per_step = seconds_per_step(*model, args);

  // The ceiling: one 64 -> 64 channel 3x3x3 conv3d forward over a 64^3 volume (a 29 GFLOP call).
  torch::NoGradGuard no_grad;
  fedglioma::sim::AutocastScope autocast(device, amp);
  torch::nn::Conv3d conv(torch::nn::Conv3dOptions(64, 64, 3).padding(1).bias(false));
  conv->to(device);
  const auto big = torch::randn({1, 64, 64, 64, 64}, torch::TensorOptions().device(device));
  conv->forward(big);
  sync(device);
  int calls = 0;
  const auto t1 = Clock::now();
  while (calls < 2 || seconds(t1) < 3.0) {
    conv->forward(big);
    ++calls;
  }
  sync(device);
  const double conv_flops = 2.0 * 64 * 64 * 27 * 64.0 * 64 * 64;
  std::printf("device %s, %d intra-op threads%s; model depth %lld, base %lld: %.2f M parameters\n",
              device.str().c_str(), threads, amp ? ", mixed precision" : "", static_cast<long long>(depth),
              static_cast<long long>(base), parameters / 1e6);
  std::printf("input %lld^3 x batch %lld: %.2f s per training step, %.2f samples/s, %.1f GFLOP per step, %.1f GFLOP/s\n",
              static_cast<long long>(edge), static_cast<long long>(batch), per_step, batch / per_step, step_flops / 1e9,
              step_flops / per_step / 1e9);
  std::printf("large conv3d (64->64, 3^3, 64^3): %.1f GFLOP/s\n", conv_flops * calls / seconds(t1) / 1e9);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  fedglioma::init_process_numerics();  // portable CPU kernels and CUDA determinism, as every run
  try {
    return bench(argc, argv);
  } catch (const std::exception& e) {  // a device this build or machine lacks, out of memory
    const std::string message = fedglioma::message_of(e);
    std::printf("fedglioma_bench_model: error: %s\n", message.substr(0, message.find('\n')).c_str());
    return 1;
  }
}
