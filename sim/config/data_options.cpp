#include "sim/config/data_options.h"

namespace fedglioma::sim {

void CaseWarnings::add(const std::string& text) {
  const std::lock_guard<std::mutex> guard(mutex_);
  lines_.push_back(text);
}

void CaseWarnings::print(std::ostream& console, const std::string& before) {
  std::vector<std::string> lines;
  {
    const std::lock_guard<std::mutex> guard(mutex_);
    lines.swap(lines_);
  }
  if (!lines.empty()) console << before;
  for (const std::string& line : lines) console << "fedglioma: warning: " << line << "\n";
}

data::PreprocessOptions preprocess_options(const ExperimentConfig& config, std::shared_ptr<CaseWarnings> warnings) {
  const DataConfig& data = config.data;
  data::PreprocessOptions options;
  options.regions = config.model.segmentation == "brats_regions";
  options.size = data.size;
  options.spacing = data.spacing;
  options.on_mismatch = data.on_geometry_mismatch;
  if (warnings) options.warn = [warnings](const std::string& text) { warnings->add(text); };
  return options;
}

std::uint64_t ram_budget_bytes(const DataConfig& data) {
  return static_cast<std::uint64_t>(data.cache_ram_gb * 1024.0 * 1024.0 * 1024.0);
}

}  // namespace fedglioma::sim
