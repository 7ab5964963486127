#pragma once

#include <c10/core/DeviceType.h>
#include <c10/core/ScalarType.h>

namespace fedglioma {

// The thread's autocast switches, across LibTorch versions: 2.4 replaced the per-backend switches
// (is_cpu_enabled, set_enabled, ...) with ones taking the device type and deprecated the old ones;
// 1.13 has only the old ones. Only CPU and CUDA are used.

/// Whether autocast is on for `type` on this thread.
bool autocast_enabled(c10::DeviceType type);
/// Turns autocast for `type` on or off on this thread.
void set_autocast_enabled(c10::DeviceType type, bool on);
/// The CPU autocast's lower-precision type (bfloat16 by default).
at::ScalarType cpu_autocast_dtype();
void set_cpu_autocast_dtype(at::ScalarType dtype);

}  // namespace fedglioma
