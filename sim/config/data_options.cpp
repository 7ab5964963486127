#include "sim/config/data_options.h"

namespace fedglioma::sim {

data::PreprocessOptions preprocess_options(const DataConfig& data) {
  data::PreprocessOptions options;
  options.size = data.size;
  options.spacing = data.spacing;
  options.on_mismatch = data.on_geometry_mismatch;
  return options;
}

std::uint64_t ram_budget_bytes(const DataConfig& data) {
  return static_cast<std::uint64_t>(data.cache_ram_gb * 1024.0 * 1024.0 * 1024.0);
}

}  // namespace fedglioma::sim
