// The manifest reader (manifest.json -> cases), and the leakage check that every run applies.
#include "data/manifest.h"
#include "data/patients.h"
#include "tests/fuzz/fuzz_support.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto path = fedglioma::fuzz::input_file(data, size, "manifest.json");
  return fedglioma::fuzz::expect_refusal_or_success([&] {
    const auto manifest = fedglioma::data::load_manifest(path);
    fedglioma::data::check_patient_leakage(manifest);
  });
}
