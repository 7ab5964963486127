#pragma once

#include <ostream>
#include <string>
#include <vector>

namespace CLI {
class App;
}

namespace fedglioma::experiments {

/// Flags of `fedglioma launch`.
struct LaunchOptions {
  int procs = 2;                     ///< --procs: processes (ranks) on this machine
  int port = 0;                      ///< --port: the rendezvous port on 127.0.0.1; 0 = a free one
  double grace_s = 60.0;             ///< --grace: after a rank fails, how long the others may take
  std::vector<std::string> command;  ///< after --: the fedglioma subcommand each rank runs
};

/// A port on 127.0.0.1 that nothing listens on now (the kernel's pick for port 0). Throws Error.
int free_loopback_port();

/// `fedglioma launch`: registers the subcommand and its flags, bound to `options`.
CLI::App* setup_launch(CLI::App& app, LaunchOptions& options);

/// Starts `procs` copies of this executable on this machine, each with the environment PyTorch's
/// launchers set (MASTER_ADDR=127.0.0.1, MASTER_PORT, WORLD_SIZE, RANK, LOCAL_RANK) and running
/// `command`; waits for all. When a rank fails, the others get `grace_s` to exit on their own
/// (they notice within runtime.distributed_timeout_s) and are then killed. Returns 0 when every
/// rank succeeded; throws Error naming the first rank that failed and how. Refused (ConfigError)
/// in a build without Gloo.
int run_launch(const LaunchOptions& options, std::ostream& console);

}  // namespace fedglioma::experiments
