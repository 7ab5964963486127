#include "core/numerics.h"

#include <ATen/Context.h>
#include <ATen/Version.h>
#include <torch/version.h>

#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <cstring>

#include <unistd.h>

namespace fedglioma {
namespace {

constexpr const char* kModeVariable = "FEDGLIOMA_CPU_NUMERICS";
constexpr const char* kRestartedVariable = "FEDGLIOMA_NUMERICS_RESTARTED";
constexpr const char* kPinnedVariable = "FEDGLIOMA_PINNED";  // the pins a fedglioma process set itself

// What portable mode sets: the variable, its value, and an older name oneDNN reads as well.
struct Pin {
  const char* name;
  const char* value;
  const char* alias;
};
constexpr Pin kPins[] = {{"ATEN_CPU_CAPABILITY", "avx2", nullptr}, {"ONEDNN_MAX_CPU_ISA", "AVX2", "DNNL_MAX_CPU_ISA"}};

// What init_process_numerics decided; written once, on the main thread, before any other thread.
struct ProcessNumerics {
  std::string mode = "portable";
  bool portable_possible = false;     // x86-64 with AVX2 and FMA
  bool restarted = false;             // this process is a restart_with_cpu_numerics
  std::vector<std::string> pinned;    // the variables this process set itself
  std::vector<std::string> user_set;  // "NAME=value" of pinning variables the user set
};

ProcessNumerics& state() {
  static ProcessNumerics numerics;
  return numerics;
}

const char* variable(const char* name) {
  const char* value = std::getenv(name);
  return value && *value ? value : nullptr;
}

// The variables of kPins that a parent fedglioma process set (FEDGLIOMA_PINNED lists them) and
// that still hold its value: inherited pins, not the user's choice.
bool inherited_pin(const char* name, const char* value) {
  const char* list = variable(kPinnedVariable);
  const char* now = variable(name);
  if (!list || !now || std::strcmp(now, value) != 0) return false;
  const std::string names = std::string(",") + list + ",";
  return names.find(std::string(",") + name + ",") != std::string::npos;
}

// The kernels ATen dispatches to, lower case ("default", "avx2", "avx512"). LibTorch 2.1 has a
// function for it; 1.13 only prints it in its build summary.
std::string aten_cpu_capability() {
#if TORCH_VERSION_MAJOR > 2 || (TORCH_VERSION_MAJOR == 2 && TORCH_VERSION_MINOR >= 1)
  std::string name = at::get_cpu_capability();
#else
  const std::string config = at::show_config();
  const std::string key = "CPU capability usage: ";
  const std::size_t at = config.find(key);
  std::string name =
      at == std::string::npos ? "unknown" : config.substr(at + key.size(), config.find('\n', at) - at - key.size());
#endif
  for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return name == "no avx" ? "default" : name;  // 1.13's words for the unvectorised kernels
}

}  // namespace

RestartRequired::RestartRequired(const std::string& mode)
    : ConfigError("runtime.cpu_numerics: the config asks for \"" + mode + "\" but this process started with \"" +
                  process_cpu_numerics() +
                  "\" (CPU kernels are chosen once per process); the fedglioma executable restarts itself for it"),
      mode_(mode) {}

void init_process_numerics() {
  ProcessNumerics& s = state();
  const char* mode = variable(kModeVariable);
  s.mode = mode && std::strcmp(mode, "native") == 0 ? "native" : "portable";
  s.portable_possible = cpu_has_avx2();
  s.restarted = variable(kRestartedVariable) != nullptr;
  ::unsetenv(kRestartedVariable);  // processes this one starts decide for themselves
  for (const Pin& pin : kPins) {
    if (inherited_pin(pin.name, pin.value)) {
      ::unsetenv(pin.name);  // a parent's pin: this process decides afresh
    } else {
      for (const char* name : {pin.name, pin.alias})
        if (name && variable(name)) s.user_set.push_back(std::string(name) + "=" + variable(name));
    }
  }
  std::string pinned;
  if (s.mode == "portable" && s.portable_possible) {
    for (const Pin& pin : kPins) {
      if (variable(pin.name) || (pin.alias && variable(pin.alias))) continue;  // the user's value wins
      ::setenv(pin.name, pin.value, 1);
      s.pinned.push_back(pin.name);
      pinned += (pinned.empty() ? "" : ",") + std::string(pin.name);
    }
  }
  if (pinned.empty()) ::unsetenv(kPinnedVariable);
  else ::setenv(kPinnedVariable, pinned.c_str(), 1);
  // cuBLAS reads its workspace setting when its first handle is made: it must be in place now.
  if (!variable("CUBLAS_WORKSPACE_CONFIG")) ::setenv("CUBLAS_WORKSPACE_CONFIG", ":4096:8", 1);
  set_cuda_determinism(true, false);
}

const std::string& process_cpu_numerics() { return state().mode; }

void require_cpu_numerics(const std::string& mode) {
  if (mode == "portable" && !state().portable_possible)
    throw ConfigError(
        "runtime.cpu_numerics: \"portable\" pins torch's CPU kernels to AVX2, which this CPU does not have "
        "(AVX2 and FMA are required); set runtime.cpu_numerics to \"native\" (results then depend on the CPU)");
  if (mode != state().mode) throw RestartRequired(mode);
}

void restart_with_cpu_numerics(const std::string& mode, char** argv) {
  if (state().restarted)
    throw IoError("runtime.cpu_numerics: fedglioma restarted itself once for \"" + process_cpu_numerics() +
                  "\" and is now asked for \"" + mode + "\"; give every config of one command the same cpu_numerics");
  if (mode == "native") {
    for (const std::string& name : state().pinned) ::unsetenv(name.c_str());
    ::unsetenv(kPinnedVariable);
  }
  ::setenv(kModeVariable, mode.c_str(), 1);
  ::setenv(kRestartedVariable, "1", 1);
  ::execv("/proc/self/exe", argv);
  throw IoError(std::string("runtime.cpu_numerics: cannot restart /proc/self/exe: ") + std::strerror(errno));
}

bool cpu_has_avx2() {
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
  return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
#else
  return false;
#endif
}

bool cpu_has_avx512() {
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
  return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
         __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512dq");
#else
  return false;
#endif
}

bool cpu_has_bfloat16_kernels() {
  const bool avx512_core = cpu_has_avx512();
  const char* cap = variable("ONEDNN_MAX_CPU_ISA") ? variable("ONEDNN_MAX_CPU_ISA") : variable("DNNL_MAX_CPU_ISA");
  const bool capped = cap && std::string(cap).rfind("AVX512", 0) != 0 && std::string(cap).rfind("avx512", 0) != 0 &&
                      std::string(cap) != "ALL" && std::string(cap) != "all";
  return avx512_core && !capped;
}

void set_cuda_determinism(bool deterministic, bool uses_cuda) {
  at::Context& context = at::globalContext();
  context.setDeterministicCuDNN(deterministic);
  context.setBenchmarkCuDNN(!deterministic);  // autotuning picks the fastest, not the same, algorithm
  context.setDeterministicAlgorithms(deterministic && uses_cuda, /*warn_only=*/true);
}

NumericsReport numerics_report() {
  const ProcessNumerics& s = state();
  NumericsReport report;
  report.cpu_numerics = s.mode;
  report.aten_cpu_capability = aten_cpu_capability();
  for (const char* name : {"ONEDNN_MAX_CPU_ISA", "DNNL_MAX_CPU_ISA"})
    if (variable(name) && report.onednn_max_cpu_isa.empty()) report.onednn_max_cpu_isa = variable(name);
  report.user_environment = s.user_set;
  report.cuda_deterministic = at::globalContext().deterministicCuDNN();
  return report;
}

}  // namespace fedglioma
