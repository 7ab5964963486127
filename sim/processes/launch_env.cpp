#include <cstdlib>
#include <string>

#include "sim/processes/processes.h"

namespace fedglioma::sim {

namespace {

// The integer in environment variable `name`, or `fallback` when it is unset.
int env_int(const char* name, int fallback, int lo, int hi) {
  const char* text = std::getenv(name);
  if (text == nullptr || *text == '\0') return fallback;
  char* end = nullptr;
  const long value = std::strtol(text, &end, 10);
  if (*end != '\0' || value < lo || value > hi)
    throw ConfigError(std::string("environment variable ") + name + "=\"" + text + "\": expected an integer in [" +
                      std::to_string(lo) + ", " + std::to_string(hi) + "]");
  return static_cast<int>(value);
}

}  // namespace

LaunchEnv read_launch_env() {
  LaunchEnv env;
  env.world = env_int("WORLD_SIZE", 1, 1, 4096);
  env.rank = env_int("RANK", 0, 0, env.world - 1);
  env.local_rank = env_int("LOCAL_RANK", env.rank, 0, 4095);
  env.master_port = env_int("MASTER_PORT", 29500, 1, 65535);
  if (const char* addr = std::getenv("MASTER_ADDR"); addr != nullptr && *addr != '\0') env.master_addr = addr;
  if (const char* agent = std::getenv("TORCHELASTIC_USE_AGENT_STORE"); agent != nullptr)
    env.agent_store = std::string(agent) == "True" || std::string(agent) == "true" || std::string(agent) == "1";
  if (env.world > 1 && std::getenv("RANK") == nullptr)
    throw ConfigError("environment variable RANK is unset but WORLD_SIZE=" + std::to_string(env.world) +
                      ": every process of a multi-process run needs its rank");
  return env;
}

}  // namespace fedglioma::sim
