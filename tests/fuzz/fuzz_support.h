#pragma once
// Shared by the libFuzzer targets (tests/fuzz/fuzz_*.cpp, built with -DFEDGLIOMA_FUZZ=ON by
// scripts/fuzz.sh). A target feeds the input to one reader; the reader may refuse it with a
// fedglioma::Error (what a user sees: one line, exit 1), and anything else is a finding: another
// exception escapes to libFuzzer (reported as a crash), and so does a signal or a sanitizer report.

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string>

namespace fedglioma::fuzz {

/// Writes the input to a file of this process named `name` (under the temp folder) and returns
/// its path: for readers that take a path.
std::filesystem::path input_file(const std::uint8_t* data, std::size_t size, const std::string& name);

/// Runs `read`, treating fedglioma::Error as the expected refusal.
template <typename F>
int expect_refusal_or_success(F&& read);

}  // namespace fedglioma::fuzz

#include "core/error.h"

template <typename F>
int fedglioma::fuzz::expect_refusal_or_success(F&& read) {
  try {
    read();
  } catch (const fedglioma::Error&) {
  }
  return 0;
}
