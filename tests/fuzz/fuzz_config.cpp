// The config parser: JSON text -> a validated ExperimentConfig and its resolved JSON.
#include <string>

#include "experiments/config_json.h"
#include "tests/fuzz/fuzz_support.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  return fedglioma::fuzz::expect_refusal_or_success([&] {
    const auto loaded = fedglioma::experiments::parse_config(text, {}, "fuzz");
    // What a run writes must read back as the same config.
    const auto again = fedglioma::experiments::parse_config(loaded.resolved_json, {}, "resolved");
    if (again.resolved_json != loaded.resolved_json) __builtin_trap();
  });
}
