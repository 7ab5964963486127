#pragma once

#include <cstdint>
#include <ostream>

#include "data/preprocess.h"
#include "sim/config/experiment_config.h"

namespace fedglioma::sim {

/// The preprocessing that `data` asks for; with `warnings`, its warnings about a case (a skull
/// left on) are printed there as "fedglioma: warning: ..." lines, from whichever loader thread
/// decodes the case (`warnings` must outlive every use of the options).
data::PreprocessOptions preprocess_options(const DataConfig& data, std::ostream* warnings = nullptr);

/// data.cache_ram_gb in bytes.
std::uint64_t ram_budget_bytes(const DataConfig& data);

}  // namespace fedglioma::sim
