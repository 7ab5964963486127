#pragma once

#include <cstdint>

#include "data/preprocess.h"
#include "sim/config/experiment_config.h"

namespace fedglioma::sim {

/// The preprocessing that `data` asks for.
data::PreprocessOptions preprocess_options(const DataConfig& data);

/// data.cache_ram_gb in bytes.
std::uint64_t ram_budget_bytes(const DataConfig& data);

}  // namespace fedglioma::sim
