#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "core/error.h"

namespace fedglioma::sim {

/// A peer process lost (dead, hung or unreachable) or a collective that failed. Its message
/// names the rank.
class DistributedError : public Error {
 public:
  using Error::Error;
};

/// Where this process stands among the run's processes, from the environment PyTorch's launchers
/// set (torchrun, srun wrappers, `fedglioma launch`): RANK, WORLD_SIZE, LOCAL_RANK, MASTER_ADDR,
/// MASTER_PORT. Without WORLD_SIZE (or with 1): one process.
struct LaunchEnv {
  int rank = 0;
  int world = 1;
  int local_rank = 0;
  std::string master_addr = "127.0.0.1";
  int master_port = 29500;
  /// torchrun's agent already serves a TCPStore on MASTER_PORT (TORCHELASTIC_USE_AGENT_STORE=True):
  /// every rank connects to it as a client instead of rank 0 serving one.
  bool agent_store = false;
};

/// Reads LaunchEnv from the environment. Throws ConfigError naming the variable that is
/// malformed or out of range (RANK outside [0, WORLD_SIZE), a port outside 1..65535).
LaunchEnv read_launch_env();

/// The processes a run is spread over. Clients are owned by rank (client id index % size) and
/// every collective is called by every rank in the same order.
class Processes {
 public:
  virtual ~Processes() = default;
  virtual int rank() const = 0;
  virtual int size() const = 0;
  /// Every rank's `mine`, indexed by rank. `what` names the exchange in errors. Throws
  /// DistributedError naming the rank lost when a peer dies, hangs past the timeout or leaves.
  virtual std::vector<std::string> allgather(const std::string& mine, const std::string& what) = 0;
  /// Whether this rank handles item `index` (a client by its index, an evaluation case by its
  /// position in the plan): the one sharing rule, index % size == rank.
  bool owns(std::size_t index) const { return static_cast<int>(index % static_cast<std::size_t>(size())) == rank(); }
};

/// One process: allgather returns its own bytes.
class SingleProcess : public Processes {
 public:
  int rank() const override { return 0; }
  int size() const override { return 1; }
  std::vector<std::string> allgather(const std::string& mine, const std::string&) override { return {mine}; }
};

/// Whether this build can run across processes (LibTorch's c10d with Gloo), and if not, why.
bool distributed_available(std::string* why_not = nullptr);

/// Joins the run's processes: rank 0 serves the rendezvous (c10d::TCPStore on MASTER_PORT), every
/// rank connects, and a Gloo process group carries the collectives. Every rank publishes
/// `fingerprint` (fedglioma's version and the resolved config's hash) and a rank whose
/// fingerprint differs from rank 0's is refused with a message naming both. Collectives and the
/// rendezvous give up after `timeout`. Throws ConfigError when this build has no Gloo.
std::unique_ptr<Processes> join_processes(const LaunchEnv& env, const std::string& fingerprint,
                                          std::chrono::milliseconds timeout);

}  // namespace fedglioma::sim
