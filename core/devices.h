#pragma once

#include <string>
#include <vector>

namespace fedglioma {

/// Resolves `runtime.devices` to the list of devices workers are bound to, round-robin:
/// "cpu"; "cuda:0,cuda:1,..." (each must exist); or "auto" (every CUDA device when there is one,
/// else "cpu"). Throws ConfigError naming runtime.devices when the spec is malformed or names a
/// CUDA device this build or machine does not have.
std::vector<std::string> resolve_devices(const std::string& spec);

}  // namespace fedglioma
