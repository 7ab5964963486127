#pragma once

#include <string>
#include <vector>

#include "core/error.h"

namespace fedglioma {

/// The process-wide settings that decide which bits a run computes, beyond its config and seed.
///
/// CPU (`runtime.cpu_numerics`): ATen picks its vectorised kernels (ATEN_CPU_CAPABILITY) and
/// oneDNN its JIT code (ONEDNN_MAX_CPU_ISA) by instruction set, once per process, and those code
/// paths round differently. "portable" pins both to AVX2, so every x86-64 CPU with AVX2, Intel or
/// AMD, computes the same bits; "native" lets them use all the CPU has (AVX-512, AMX).
///
/// CUDA (`runtime.deterministic`): deterministic cuDNN algorithms, no benchmark autotuning,
/// deterministic ATen kernels (a warning names any op without one) and a fixed cuBLAS workspace
/// (CUBLAS_WORKSPACE_CONFIG=:4096:8).

/// The mode the process runs with and why, for the resolved config and summary.json.
struct NumericsReport {
  std::string cpu_numerics;                   ///< "portable" or "native"
  std::string aten_cpu_capability;            ///< the kernels ATen dispatches to: default, avx2, avx512
  std::string onednn_max_cpu_isa;             ///< the cap oneDNN reads; empty = none (all the CPU has)
  std::vector<std::string> user_environment;  ///< pinning variables set by the user ("NAME=value"), which win
  bool cuda_deterministic = true;             ///< cuDNN deterministic, no autotuning, deterministic algorithms
  /// runtime.threads_per_worker: a CPU convolution's sums are split over the intra-op threads,
  /// so the count is part of the numbers (filled in by the run; 0 outside one).
  int threads_per_worker = 0;
};

/// Thrown, before anything is written, when a config asks for the other runtime.cpu_numerics
/// than the one the process started with: kernels are chosen once per process, so the
/// `fedglioma` executable catches this and re-executes itself in the mode the config names.
class RestartRequired : public ConfigError {
 public:
  explicit RestartRequired(const std::string& mode);
  const std::string& mode() const { return mode_; }

 private:
  std::string mode_;
};

/// The first call of every executable, before anything touches torch: reads the mode from
/// FEDGLIOMA_CPU_NUMERICS (portable unless "native"), pins ATEN_CPU_CAPABILITY=avx2 and
/// ONEDNN_MAX_CPU_ISA=AVX2 for portable mode on a CPU with AVX2 and FMA (a variable the user set
/// is kept, and reported), sets CUBLAS_WORKSPACE_CONFIG unless set, and turns CUDA determinism on.
void init_process_numerics();

/// The runtime.cpu_numerics this process runs with.
const std::string& process_cpu_numerics();

/// Checks that the process runs with `mode`. Throws ConfigError naming runtime.cpu_numerics when
/// portable numerics are impossible on this CPU (no AVX2), RestartRequired when the process
/// started in the other mode.
void require_cpu_numerics(const std::string& mode);

/// Re-executes this program (/proc/self/exe, same arguments) in `mode`; the pins this process set
/// itself are dropped for native mode. Refuses (IoError) a second restart, so a config can never
/// loop. Never returns.
[[noreturn]] void restart_with_cpu_numerics(const std::string& mode, char** argv);

/// Whether the CPU has AVX2 and FMA, which portable mode pins ATen and oneDNN to.
bool cpu_has_avx2();

/// Whether the CPU has AVX-512 (F, BW, VL, DQ: oneDNN's avx512_core), which oneDNN's bfloat16
/// convolutions need.
bool cpu_has_avx512();

/// Whether oneDNN has bfloat16 convolutions in this process (CPU mixed precision): an AVX-512
/// CPU and oneDNN not capped below it (portable mode caps it at AVX2, which has none).
bool cpu_has_bfloat16_kernels();

/// runtime.deterministic: deterministic cuDNN and no autotuning; with `uses_cuda`, ATen's
/// deterministic algorithms too (warn-only: an op without a deterministic CUDA kernel is named
/// in a warning, not refused). CPU-only runs keep ATen's default mode, whose CPU kernels are
/// deterministic for a fixed thread count already.
void set_cuda_determinism(bool deterministic, bool uses_cuda);

/// What this process runs with now.
NumericsReport numerics_report();

}  // namespace fedglioma
