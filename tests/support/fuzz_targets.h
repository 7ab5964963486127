#pragma once
// The bodies of the libFuzzer targets (tests/fuzz/fuzz_<name>.cpp call them), shared with the
// corpus replay test (tests/core/test_fuzz_corpus.cpp), which runs every committed input of
// tests/fuzz/corpus/<name> through the same body in the normal test suite. A body may refuse its
// input with a fedglioma::Error (what a user sees); any other exception, a signal or a sanitizer
// report is a finding.

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace fedglioma::fuzz {

/// One input through one target; returns normally or throws fedglioma::Error.
void fuzz_config(const std::uint8_t* data, std::size_t size);
void fuzz_manifest(const std::uint8_t* data, std::size_t size);
void fuzz_label_tables(const std::uint8_t* data, std::size_t size);
void fuzz_nifti(const std::uint8_t* data, std::size_t size);
void fuzz_checkpoint(const std::uint8_t* data, std::size_t size);
void fuzz_model_pt(const std::uint8_t* data, std::size_t size);

/// The targets by name (the corpus folder names).
struct Target {
  std::string name;
  void (*run)(const std::uint8_t*, std::size_t);
};
const std::vector<Target>& targets();

}  // namespace fedglioma::fuzz
