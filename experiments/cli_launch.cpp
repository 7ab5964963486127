#include "experiments/cli_launch.h"

#include <CLI/CLI.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <map>
#include <thread>

#include "core/error.h"
#include "data/manifest.h"
#include "experiments/child_process.h"
#include "experiments/cli_run.h"
#include "experiments/config_json.h"
#include "sim/processes/processes.h"

namespace fedglioma::experiments {
namespace {

// Starts rank `rank`: this executable with `command`, in the launch environment. c10d's glog
// lines ("[c10d] The client socket has timed out ...") are silenced unless GLOG_minloglevel is
// set: fedglioma reports each failure itself, in one line naming the rank.
pid_t start_rank(int rank, const LaunchOptions& options, int port) {
  const char* glog = std::getenv("GLOG_minloglevel");
  return spawn_self(options.command, {{"MASTER_ADDR", "127.0.0.1"},
                                      {"MASTER_PORT", std::to_string(port)},
                                      {"WORLD_SIZE", std::to_string(options.procs)},
                                      {"RANK", std::to_string(rank)},
                                      {"LOCAL_RANK", std::to_string(rank)},
                                      {"GLOG_minloglevel", glog ? glog : "3"}});
}

// The `run` every rank would start, checked here once (its config and manifest, or the folder it
// resumes): a mistake is printed once by the launcher, not once by every rank.
void check_run_command(const std::vector<std::string>& command) {
  CLI::App app;
  RunOptions run;
  setup_run(app, run);
  std::vector<std::string> args(command.rbegin(), command.rend());
  try {
    app.parse(args);
  } catch (const CLI::ParseError& e) {
    throw ConfigError("launch: the command after --: " + std::string(e.what()));
  }
  data::load_manifest(load_run_config(run).config.data.manifest);
}

// A --port another process listens on (another launch) is refused before any rank starts: the
// ranks would otherwise fail at the rendezvous, or join the other launch's store.
void require_free_port(int port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_ANY);
  addr.sin_port = htons(static_cast<std::uint16_t>(port));
  const bool free = fd >= 0 && ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  if (fd >= 0) ::close(fd);
  if (!free)
    throw ConfigError("launch: --port " + std::to_string(port) +
                      " is in use on this machine (another launch?); give another port, or none to take a free one");
}

}  // namespace

int free_loopback_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof addr;
  const bool ok = fd >= 0 && ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0 &&
                  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &length) == 0;
  if (fd >= 0) ::close(fd);
  if (!ok) throw Error("launch: cannot find a free port on 127.0.0.1; give --port");
  return ntohs(addr.sin_port);
}

CLI::App* setup_launch(CLI::App& app, LaunchOptions& options) {
  CLI::App* cmd = app.add_subcommand(
      "launch", "Run a fedglioma command as N processes on this machine (c10d over loopback): launch --procs N -- run ...");
  cmd->add_option("--procs", options.procs, "Processes (ranks)")->check(CLI::Range(1, 256));
  cmd->add_option("--port", options.port, "Rendezvous port on 127.0.0.1 (default: a free one)")->check(CLI::Range(0, 65535));
  cmd->add_option("--grace", options.grace_s, "Seconds the other ranks get to exit after one fails")->check(CLI::Range(0.0, 86400.0));
  cmd->add_option("command", options.command, "The subcommand every rank runs, after --")->required();
  return cmd;
}

int run_launch(const LaunchOptions& options, std::ostream& console) {
  std::string why;
  if (!sim::distributed_available(&why)) throw ConfigError("launch is unavailable: " + why);
  if (options.command.empty() || options.command.front() != "run")
    throw ConfigError("launch runs `run` across processes (launch --procs N -- run CONFIG --out DIR); for a sweep use "
                      "`sweep --jobs K`");
  check_run_command(options.command);
  if (options.port != 0) require_free_port(options.port);
  const int port = options.port != 0 ? options.port : free_loopback_port();
  std::map<pid_t, int> ranks;
  for (int r = 0; r < options.procs; ++r) ranks[start_rank(r, options, port)] = r;
  std::string first_failure, killed;
  auto deadline = std::chrono::steady_clock::time_point::max();
  while (!ranks.empty()) {
    int status = 0;
    const pid_t pid = ::waitpid(-1, &status, WNOHANG);
    if (pid <= 0) {
      if (std::chrono::steady_clock::now() > deadline && killed.empty())
        for (const auto& [p, r] : ranks) {
          ::kill(p, SIGKILL);
          killed += (killed.empty() ? "" : ", ") + std::to_string(r);
        }
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
      continue;
    }
    const auto it = ranks.find(pid);
    if (it == ranks.end()) continue;
    const int rank = it->second;
    ranks.erase(it);
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0) continue;
    if (first_failure.empty()) {
      first_failure = "launch: rank " + std::to_string(rank) + " of " + std::to_string(options.procs) + " " +
                      describe_exit(status);
      deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(static_cast<long long>(options.grace_s * 1000));
    }
  }
  if (!killed.empty()) first_failure += "; still running after --grace, killed: rank(s) " + killed;
  if (!first_failure.empty()) throw Error(first_failure);
  console << "launch: " << options.procs << " rank(s) finished\n";
  return 0;
}

}  // namespace fedglioma::experiments
