#include "tests/fuzz/fuzz_support.h"

#include <unistd.h>

#include "core/atomic_file.h"

namespace fedglioma::fuzz {

std::filesystem::path input_file(const std::uint8_t* data, std::size_t size, const std::string& name) {
  const auto dir = std::filesystem::temp_directory_path() / ("fedglioma-fuzz-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  const auto path = dir / name;
  write_file_atomic(path, std::string(reinterpret_cast<const char*>(data), size));
  return path;
}

}  // namespace fedglioma::fuzz
