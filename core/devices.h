#pragma once

#include <string>
#include <vector>

namespace fedglioma {

/// Resolves `runtime.devices` to the list of devices workers are bound to, round-robin:
/// "cpu"; "cuda:0,cuda:1,..." (each must exist); or "auto" (every CUDA device when there is one,
/// else "cpu"). Throws ConfigError naming runtime.devices when the spec is malformed or names a
/// CUDA device this build or machine does not have.
std::vector<std::string> resolve_devices(const std::string& spec);

/// The devices of one process of a multi-process run on a host (LOCAL_RANK `local_rank`): with
/// runtime.devices "auto" and several CUDA devices, the one GPU local_rank % count, so the
/// processes of a host share its GPUs out (as torchrun's users expect); otherwise `devices`.
std::vector<std::string> devices_of_local_rank(const std::string& spec, const std::vector<std::string>& devices,
                                               int local_rank, int world);

}  // namespace fedglioma
