#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <ostream>
#include <string>
#include <vector>

#include "data/preprocess.h"
#include "sim/config/experiment_config.h"

namespace fedglioma::sim {

/// Warnings about cases (a skull left on), gathered from whichever loader thread decodes a case
/// and printed by the thread that owns the console, so that they never interleave with its lines.
class CaseWarnings {
 public:
  void add(const std::string& text);
  /// Prints the warnings gathered so far, one "fedglioma: warning: ..." line each (after `before`,
  /// when there is one: a newline to leave a progress line), and forgets them.
  void print(std::ostream& console, const std::string& before = {});

 private:
  std::mutex mutex_;
  std::vector<std::string> lines_;
};

/// The preprocessing that `config` asks for (its data section; masks as region codes with
/// model.segmentation "brats_regions"); with `warnings`, its warnings go there.
data::PreprocessOptions preprocess_options(const ExperimentConfig& config, std::shared_ptr<CaseWarnings> warnings = nullptr);

/// data.cache_ram_gb in bytes.
std::uint64_t ram_budget_bytes(const DataConfig& data);

}  // namespace fedglioma::sim
