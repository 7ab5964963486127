// The checkpoint reader (checkpoints/latest.state: a state bundle with a checksum).
#include "core/state_bundle.h"
#include "tests/fuzz/fuzz_support.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto path = fedglioma::fuzz::input_file(data, size, "latest.state");
  return fedglioma::fuzz::expect_refusal_or_success([&] { fedglioma::load_bundle(path); });
}
