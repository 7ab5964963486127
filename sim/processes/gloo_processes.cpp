// The run's processes over LibTorch's c10d: a TCPStore for the rendezvous, the fingerprint check
// and liveness, and a Gloo process group for the collectives. Built when CMake finds Gloo's
// headers (Debian: libgloo-dev) and LibTorch's ProcessGroupGloo (FEDGLIOMA_WITH_GLOO).
#include "sim/processes/processes.h"

#ifdef FEDGLIOMA_WITH_GLOO
#define USE_C10D_GLOO 1
#include <torch/csrc/distributed/c10d/PrefixStore.hpp>
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>
#include <ATen/ops/empty.h>
#include <ATen/ops/tensor.h>
#include <nlohmann/json.hpp>

#include "core/json_document.h"

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <thread>
#endif

namespace fedglioma::sim {

#ifndef FEDGLIOMA_WITH_GLOO

bool distributed_available(std::string* why_not) {
  if (why_not)
    *why_not = "this fedglioma was built without Gloo (LibTorch's c10d ProcessGroupGloo and Gloo's headers, "
               "Debian's libgloo-dev, were not found at configure time), so it runs in one process only";
  return false;
}

std::unique_ptr<Processes> join_processes(const LaunchEnv& env, const std::string&, std::chrono::milliseconds) {
  std::string why;
  distributed_available(&why);
  throw ConfigError("WORLD_SIZE=" + std::to_string(env.world) + ": " + why);
}

#else

bool distributed_available(std::string*) { return true; }

namespace {

using Bytes = std::vector<std::uint8_t>;
Bytes bytes_of(const std::string& s) { return Bytes(s.begin(), s.end()); }
std::string text_of(const Bytes& b) { return std::string(b.begin(), b.end()); }

constexpr auto kHeartbeat = std::chrono::milliseconds(500);

std::shared_ptr<::gloo::transport::Device> gloo_device(const LaunchEnv& env) {
  if (const char* ifname = std::getenv("GLOO_SOCKET_IFNAME"); ifname != nullptr && *ifname != '\0')
    return c10d::ProcessGroupGloo::createDeviceForInterface(ifname);
  if (env.master_addr == "localhost" || env.master_addr.rfind("127.", 0) == 0)
    return c10d::ProcessGroupGloo::createDeviceForHostname("127.0.0.1");
  return c10d::ProcessGroupGloo::createDefaultDevice();
}

// What the heartbeat thread shares with its process: shared, so that a thread left blocked on a
// lost store never touches freed memory.
struct Beating {
  std::mutex mutex;
  std::condition_variable wake;
  bool stop = false;
};

class GlooProcesses : public Processes {
 public:
  GlooProcesses(const LaunchEnv& env, const std::string& fingerprint, std::chrono::milliseconds timeout)
      : rank_(env.rank), size_(env.world), timeout_(timeout) {
    c10d::TCPStoreOptions options;
    options.port = static_cast<std::uint16_t>(env.master_port);
    options.isServer = env.rank == 0 && !env.agent_store;
    options.numWorkers = static_cast<std::size_t>(env.world);
    options.waitWorkers = false;  // the fingerprints below say which rank is missing
    options.timeout = timeout;
    const std::string where = env.master_addr + ":" + std::to_string(env.master_port);
    try {
      store_ = c10::make_intrusive<c10d::TCPStore>(env.master_addr, options);
    } catch (const std::exception& e) {
      const std::string cause = message_of(e);
      if (options.isServer)
        throw DistributedError("rank 0 cannot serve the rendezvous on port " + std::to_string(env.master_port) +
                               (cause.find("in use") != std::string::npos ? " (in use by another process: choose another MASTER_PORT)" : "") +
                               ": " + cause);
      throw DistributedError("rank " + std::to_string(rank_) + " cannot reach the rendezvous at " + where +
                             " (rank 0's) within runtime.distributed_timeout_s: " + cause);
    }
    publish_and_wait(fingerprint, where);
    check_fingerprints();
    // The heartbeat has a connection of its own with a short timeout: a store that stops answering
    // (rank 0 stopped) must not hold the beating thread, and so this process's exit, for the
    // whole timeout.
    c10d::TCPStoreOptions beating = options;
    beating.isServer = false;
    beating.timeout = 4 * kHeartbeat;
    beat_store_ = c10::make_intrusive<c10d::TCPStore>(env.master_addr, beating);
    auto gloo = c10d::ProcessGroupGloo::Options::create(timeout);
    gloo->devices.push_back(gloo_device(env));
    gloo->threads = 2;
    group_ = c10::make_intrusive<c10d::ProcessGroupGloo>(c10::make_intrusive<c10d::PrefixStore>("gloo", store_), rank_,
                                                         size_, gloo);
    heartbeat_ = std::thread(beat, beat_store_, beating_, alive_key(rank_));
  }

  ~GlooProcesses() override {
    {
      std::lock_guard<std::mutex> lock(beating_->mutex);
      beating_->stop = true;
    }
    beating_->wake.notify_all();
    // After a loss the heartbeat may be blocked on a store that no longer answers (LibTorch 1.13's
    // TCPStore reads without a timeout): it owns what it uses, and is left to end with the process.
    if (lost_) heartbeat_.detach();
    else heartbeat_.join();
  }

  int rank() const override { return rank_; }
  int size() const override { return size_; }

  std::vector<std::string> allgather(const std::string& mine, const std::string& what) override {
    const std::string op = std::to_string(++op_);
    try {
      store_->set(arrived_key(op, rank_), {});
      wait_for_all(op, what);
      std::vector<at::Tensor> sizes = gather_tensor(at::tensor({static_cast<std::int64_t>(mine.size())}, at::kLong));
      std::int64_t longest = 0;
      for (const at::Tensor& s : sizes) longest = std::max(longest, s.item<std::int64_t>());
      at::Tensor padded = at::empty({std::max<std::int64_t>(longest, 1)}, at::kByte);
      std::memcpy(padded.data_ptr(), mine.data(), mine.size());
      std::vector<at::Tensor> all = gather_tensor(padded);
      std::vector<std::string> out;
      for (int r = 0; r < size_; ++r)
        out.emplace_back(static_cast<const char*>(all[r].data_ptr()), static_cast<std::size_t>(sizes[r].item<std::int64_t>()));
      return out;
    } catch (const DistributedError&) {
      throw;
    } catch (const std::exception& e) {
      throw DistributedError(lost_message(what, op, message_of(e)));
    }
  }

 private:
  // The store's keys: each rank's fingerprint, heartbeat counter, and arrival at collective `op`.
  static std::string fingerprint_key(int r) { return "fedglioma/fingerprint/" + std::to_string(r); }
  static std::string alive_key(int r) { return "fedglioma/alive/" + std::to_string(r); }
  static std::string arrived_key(const std::string& op, int r) { return "fedglioma/arrived/" + op + "/" + std::to_string(r); }

  std::vector<at::Tensor> gather_tensor(const at::Tensor& mine) {
    std::vector<at::Tensor> input{mine};
    std::vector<std::vector<at::Tensor>> output(1);
    for (int r = 0; r < size_; ++r) output[0].push_back(at::empty_like(mine));
    // The Work stays alive until the next collective: LibTorch 1.13's Gloo worker signals the
    // Work's condition variable after its waiter may already see it complete, so destroying it
    // at once could race with that signal (ThreadSanitizer saw it).
    auto work = group_->allgather(output, input);
    work->wait();
    last_work_ = std::move(work);
    return output[0];
  }

  // Every rank publishes its fingerprint and waits for the others' within the timeout; the ranks
  // that never published are named.
  void publish_and_wait(const std::string& fingerprint, const std::string& where) {
    store_->set(fingerprint_key(rank_), bytes_of(fingerprint));
    std::vector<std::string> keys;
    for (int r = 0; r < size_; ++r) keys.push_back(fingerprint_key(r));
    try {
      store_->wait(keys, timeout_);
    } catch (const std::exception& e) {
      std::string missing;
      for (int r = 0; r < size_; ++r)
        if (!store_->check({keys[r]})) missing += (missing.empty() ? "" : ", ") + std::to_string(r);
      throw DistributedError("rank " + std::to_string(rank_) + " of " + std::to_string(size_) + ": rank(s) " +
                             (missing.empty() ? std::string("?") : missing) + " did not join the rendezvous at " + where +
                             " within runtime.distributed_timeout_s (not started, failed before joining, or cannot "
                             "reach it)");
    }
  }

  // Every rank publishes its fingerprint; all compare with rank 0's, so a stranger is refused and
  // every rank says why, naming the fields that differ when the fingerprints are JSON objects.
  void check_fingerprints() {
    const std::string first = text_of(store_->get(fingerprint_key(0)));
    for (int r = 1; r < size_; ++r) {
      const std::string theirs = text_of(store_->get(fingerprint_key(r)));
      if (theirs != first)
        throw ConfigError("rank " + std::to_string(r) + " does not belong to rank 0's run (rank 0 -> rank " +
                          std::to_string(r) + ": " + fingerprint_differences(first, theirs) +
                          "): refused; start every rank with the same build, config, data, numerics and --resume");
    }
  }

  static std::string fingerprint_differences(const std::string& first, const std::string& theirs) {
    try {
      return json_differences(parse_json_document(first), parse_json_document(theirs));
    } catch (const std::exception&) {
      return first + " -> " + theirs;
    }
  }

  // Adds to this rank's counter every kHeartbeat until stopped, on a connection of its own; it
  // holds no lock while the store answers, so stopping it never waits on the store.
  static void beat(c10::intrusive_ptr<c10d::TCPStore> store, std::shared_ptr<Beating> beating, std::string key) {
    for (;;) {
      try {
        store->add(key, 1);
      } catch (...) {
        return;  // the store (rank 0) is gone; the next collective says so
      }
      std::unique_lock<std::mutex> lock(beating->mutex);
      if (beating->wake.wait_for(lock, kHeartbeat, [&] { return beating->stop; })) return;
    }
  }

  // Before a collective: waits until every rank has arrived at it, for as long as the missing ones'
  // heartbeats go on (a slower rank is alive, not lost: runtime.distributed_timeout_s bounds how
  // long a heartbeat may stop, not how long a rank may compute). A rank whose heartbeat stops for
  // the timeout is lost; rank 0's store not answering within it means rank 0 is.
  void wait_for_all(const std::string& op, const std::string& what) {
    using Clock = std::chrono::steady_clock;
    std::vector<std::int64_t> beats(size_, -1);
    std::vector<Clock::time_point> changed(size_, Clock::now());
    for (;;) {
      std::vector<int> missing, lost;
      try {
        for (int r = 0; r < size_; ++r)
          if (r != rank_ && !store_->check({arrived_key(op, r)})) missing.push_back(r);
        const auto now = Clock::now();
        for (int r : missing) {
          const std::int64_t beat = store_->add(alive_key(r), 0);
          if (beat != beats[r]) beats[r] = beat, changed[r] = now;
          else if (now - changed[r] > timeout_) lost.push_back(r);
        }
      } catch (const std::exception& e) {
        lost_ = true;
        throw DistributedError(lost_text(what, {0}, "the rendezvous store it serves stopped answering: " + message_of(e)));
      }
      if (missing.empty()) return;
      if (!lost.empty()) {
        lost_ = true;
        throw DistributedError(lost_text(what, lost, "its heartbeat stopped for runtime.distributed_timeout_s"));
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  }

  // "rank R of N: lost rank A, rank B during WHAT (WHY): CAUSE"; "a rank" when none is known.
  std::string lost_text(const std::string& what, const std::vector<int>& lost, const std::string& cause,
                        const std::string& why = "dead, stopped or unreachable") const {
    std::string who;
    for (int r : lost) who += (who.empty() ? "rank " : ", rank ") + std::to_string(r);
    if (who.empty()) who = "a rank";
    return "rank " + std::to_string(rank_) + " of " + std::to_string(size_) + ": lost " + who + " during " + what +
           " (" + why + "): " + cause;
  }

  // Which ranks were lost: those whose heartbeat stopped, else those that never reached the
  // collective (hung); rank 0 when the rendezvous store (which it serves) is unreachable.
  std::string lost_message(const std::string& what, const std::string& op, const std::string& cause) {
    lost_ = true;
    std::vector<int> lost;
    try {
      // The collective has already waited out the timeout: a store that does not answer within a
      // few heartbeats now is rank 0's, stopped or gone (detection stays near the timeout, not 2x).
      store_->setTimeout(8 * kHeartbeat);
      std::vector<std::int64_t> before(size_);
      for (int r = 0; r < size_; ++r) before[r] = store_->add(alive_key(r), 0);
      std::this_thread::sleep_for(4 * kHeartbeat);
      for (int r = 0; r < size_; ++r)
        if (r != rank_ && store_->add(alive_key(r), 0) == before[r]) lost.push_back(r);
      if (lost.empty())
        for (int r = 0; r < size_; ++r)
          if (!store_->check({arrived_key(op, r)})) lost.push_back(r);
    } catch (...) {
      lost = {0};
    }
    return lost_text(what, lost, cause, "dead, hung past runtime.distributed_timeout_s, or unreachable");
  }

  int rank_, size_;
  std::chrono::milliseconds timeout_;
  std::uint64_t op_ = 0;
  c10::intrusive_ptr<c10d::TCPStore> store_, beat_store_;
  c10::intrusive_ptr<c10d::ProcessGroupGloo> group_;
  c10::intrusive_ptr<c10d::Work> last_work_;
  std::shared_ptr<Beating> beating_ = std::make_shared<Beating>();
  std::thread heartbeat_;
  bool lost_ = false;  // a rank was lost: the heartbeat is not waited for
};

}  // namespace

std::unique_ptr<Processes> join_processes(const LaunchEnv& env, const std::string& fingerprint,
                                          std::chrono::milliseconds timeout) {
  return std::make_unique<GlooProcesses>(env, fingerprint, timeout);
}

#endif

}  // namespace fedglioma::sim
