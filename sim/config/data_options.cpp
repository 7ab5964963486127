#include "sim/config/data_options.h"

#include <memory>
#include <mutex>
#include <string>

namespace fedglioma::sim {

data::PreprocessOptions preprocess_options(const DataConfig& data, std::ostream* warnings) {
  data::PreprocessOptions options;
  options.size = data.size;
  options.spacing = data.spacing;
  options.on_mismatch = data.on_geometry_mismatch;
  if (warnings) {
    auto lock = std::make_shared<std::mutex>();  // loader threads warn concurrently
    options.warn = [warnings, lock](const std::string& text) {
      const std::lock_guard<std::mutex> guard(*lock);
      *warnings << "fedglioma: warning: " << text << "\n";
    };
  }
  return options;
}

std::uint64_t ram_budget_bytes(const DataConfig& data) {
  return static_cast<std::uint64_t>(data.cache_ram_gb * 1024.0 * 1024.0 * 1024.0);
}

}  // namespace fedglioma::sim
