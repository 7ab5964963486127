// GPU tests: each skips at run time where torch sees no CUDA device (CI, Debian's CPU LibTorch).
// scripts/gpu_check.sh runs them on a GPU machine.
#include <catch2/catch.hpp>

#include <torch/cuda.h>
#include <torch/types.h>
#include <nlohmann/json.hpp>

#include <cmath>
#include <vector>

#include "core/random.h"
#include "sim/train/batch.h"
#include "tests/support/fixtures.h"

using fedglioma::testing::metrics_of;
using fedglioma::testing::read_rounds;
using fedglioma::testing::tiny_run;
using nlohmann::json;

namespace {

bool no_gpu() {
  if (torch::cuda::is_available()) return false;
  fedglioma::testing::skip("no CUDA device");
  return true;
}

std::vector<json> metrics(const std::vector<json>& rounds) {
  std::vector<json> out;
  for (const json& r : rounds) out.push_back(metrics_of(r));
  return out;
}

std::vector<std::string> on_gpu(std::vector<std::string> overrides) {
  overrides.push_back("runtime.devices=cuda:0");
  overrides.push_back("federation.rounds=3");
  return overrides;
}

}  // namespace

TEST_CASE("CUDA runs are deterministic across worker counts and from run to run", "[cuda][slow][may_skip]") {
  if (no_gpu()) return;
  const auto one = metrics(read_rounds(tiny_run("cuda-1", on_gpu({"runtime.workers=1"}))));
  const auto three = metrics(read_rounds(tiny_run("cuda-3", on_gpu({"runtime.workers=3"}))));
  const auto again = metrics(read_rounds(tiny_run("cuda-3-again", on_gpu({"runtime.workers=3"}))));
  REQUIRE(one == three);
  REQUIRE(three == again);
}

TEST_CASE("two workers share one GPU, each on its own stream (runtime.devices=cuda:0,cuda:0)", "[cuda][slow][may_skip]") {
  if (no_gpu()) return;
  const auto shared = metrics(read_rounds(
      tiny_run("cuda-shared", {"runtime.devices=cuda:0,cuda:0", "runtime.workers=2", "federation.rounds=3"})));
  const auto alone = metrics(read_rounds(tiny_run("cuda-alone", on_gpu({"runtime.workers=1"}))));
  REQUIRE(shared == alone);
}

TEST_CASE("a CUDA run ends within float tolerance of the CPU run", "[cuda][slow][may_skip]") {
  if (no_gpu()) return;
  const auto gpu = read_rounds(tiny_run("cuda-vs-cpu-gpu", on_gpu({})));
  const auto cpu = read_rounds(tiny_run("cuda-vs-cpu-cpu", {"federation.rounds=3"}));
  REQUIRE(gpu.size() == cpu.size());
  for (std::size_t c = 0; c < cpu.back()["clients"].size(); ++c)
    REQUIRE(gpu.back()["clients"][c]["train_loss"].get<double>() ==
            Approx(cpu.back()["clients"][c]["train_loss"].get<double>()).epsilon(0.02));
  REQUIRE(gpu.back()["eval"]["external"]["dice_mean"].get<double>() ==
          Approx(cpu.back()["eval"]["external"]["dice_mean"].get<double>()).margin(0.05));
}

TEST_CASE("float16 mixed precision with loss scaling trains on CUDA without non-finite steps", "[cuda][slow][may_skip]") {
  if (no_gpu()) return;
  const auto rounds = read_rounds(tiny_run("cuda-amp", on_gpu({"train.mixed_precision=true"})));
  for (const json& round : rounds) {
    for (const json& client : round["clients"]) {
      REQUIRE(client["status"] == "ok");
      REQUIRE(std::isfinite(client["train_loss"].get<double>()));
      // A skipped step is the scaler doing its job (float16 overflow at the initial 2^16 scale);
      // what must never happen is a non-finite loss or weights.
      WARN("client " << client["id"] << ": " << client.value("skipped_steps", 0) << " step(s) skipped");
    }
  }
  const json& external = rounds.back()["eval"]["external"];
  REQUIRE(std::isfinite(external["dice_mean"].get<double>()));
  for (const auto& [marker, auc] : external["auc"].items())
    if (!auc.is_null()) REQUIRE(std::isfinite(auc.get<double>()));
}

TEST_CASE("the device-side input pipeline draws the same augmentation as the CPU", "[cuda][may_skip]") {
  if (no_gpu()) return;
  fedglioma::data::Sample s;
  s.geometry.size = {16, 16, 16};
  const std::size_t n = 16 * 16 * 16;
  fedglioma::Rng fill(5);
  s.image.resize(4 * n);
  s.mask.assign(n, 0);
  for (std::size_t v = 0; v < n; ++v) {
    for (std::size_t c = 0; c < 4; ++c)
      s.image[c * n + v] = v % 7 == 0 ? 0.0f : static_cast<float>(fill.uniform(-2, 2));
    s.mask[v] = v % 5 == 0;
  }
  s.labels.idh = 1;
  fedglioma::sim::AugmentOptions options;
  options.gamma = 1.0;
  options.noise = 1.0;
  options.patch = {8, 8, 8};
  fedglioma::Rng a(11), b(11);
  const auto cpu = fedglioma::sim::make_batch({&s}, c10::Device(c10::kCPU), &a, options);
  const auto gpu = fedglioma::sim::make_batch({&s}, c10::Device("cuda:0"), &b, options);
  REQUIRE(gpu.image.is_cuda());
  REQUIRE(torch::allclose(cpu.image, gpu.image.cpu(), 1e-5, 1e-5));
  REQUIRE(torch::equal(cpu.targets.mask, gpu.targets.mask.cpu()));
  REQUIRE(torch::equal(cpu.targets.marker, gpu.targets.marker.cpu()));
  REQUIRE(a.next() == b.next());  // the same number of draws
}
