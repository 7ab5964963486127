// libFuzzer entry for the label_tables reader (body: tests/support/fuzz_targets.cpp; run by scripts/fuzz.sh).
#include "core/error.h"
#include "tests/support/fuzz_targets.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  try {
    fedglioma::fuzz::fuzz_label_tables(data, size);
  } catch (const fedglioma::Error&) {  // the expected refusal; anything else escapes as a finding
  }
  return 0;
}
