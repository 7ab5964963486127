#include "core/devices.h"

#include <torch/cuda.h>

#include <sstream>

#include "core/error.h"

namespace fedglioma {

std::vector<std::string> resolve_devices(const std::string& spec) {
  const auto cuda_count = static_cast<int>(torch::cuda::device_count());
  if (spec == "auto") {
    if (cuda_count == 0) return {"cpu"};
    std::vector<std::string> all;
    for (int i = 0; i < cuda_count; ++i) all.push_back("cuda:" + std::to_string(i));
    return all;
  }
  if (spec == "cpu") return {"cpu"};
  std::vector<std::string> out;
  std::stringstream ss(spec);
  std::string item;
  while (std::getline(ss, item, ',')) {
    if (item.rfind("cuda:", 0) != 0 || item.size() == 5 ||
        item.find_first_not_of("0123456789", 5) != std::string::npos)
      throw ConfigError("runtime.devices: '" + item +
                        "' is not a device; expected \"auto\", \"cpu\" or a list like "
                        "\"cuda:0,cuda:1\"");
    const int index = std::stoi(item.substr(5));
    if (index >= cuda_count)
      throw ConfigError("runtime.devices: " + item + " requested but " +
                        std::to_string(cuda_count) +
                        " CUDA device(s) are available to this build");
    out.push_back(item);
  }
  if (out.empty()) throw ConfigError("runtime.devices: empty device list");
  return out;
}

std::vector<std::string> devices_of_local_rank(const std::string& spec, const std::vector<std::string>& devices,
                                               int local_rank, int world) {
  if (spec != "auto" || world <= 1 || devices.size() <= 1 || devices.front() == "cpu") return devices;
  return {devices[static_cast<std::size_t>(local_rank) % devices.size()]};
}

}  // namespace fedglioma
