// Runs across processes (c10d over loopback, `fedglioma launch`): the same rounds.jsonl metrics
// and files as one process, a lost rank named within the timeout, resume after a SIGKILL, and
// strangers refused. Skipped in a build without Gloo.
#include <catch2/catch.hpp>

#include <chrono>
#include <filesystem>
#include <set>
#include <string>
#include <vector>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/atomic_file.h"
#include "core/devices.h"
#include "experiments/cli_launch.h"
#include "sim/processes/processes.h"
#include "tests/support/fixtures.h"

namespace fs = std::filesystem;
using fedglioma::testing::metrics_of;
using fedglioma::testing::read_rounds;
using fedglioma::testing::run_command;

namespace {

bool skip_without_gloo() {
  std::string why;
  if (fedglioma::sim::distributed_available(&why)) return false;
  fedglioma::testing::skip(why);
  return true;
}

std::string sets(const std::vector<std::string>& overrides) {
  std::string text;
  for (const auto& o : overrides) text += " --set " + o;
  return text;
}

// `fedglioma launch --procs N -- run` of the tiny config with `overrides` into DIR/run.
std::string launch_command(const fs::path& dir, int procs, const std::vector<std::string>& overrides) {
  const auto options = fedglioma::testing::tiny_run_options(dir, overrides);
  return std::string(FEDGLIOMA_BINARY) + " launch --procs " + std::to_string(procs) + " -- run '" +
         options.config.string() + "' --out '" + options.out.string() + "'" + sets(overrides);
}

// The files of a run folder; a TensorBoard file's name ends with the second it was opened (TensorBoard's
// convention), so only its prefix counts.
std::set<std::string> files_in(const fs::path& dir) {
  std::set<std::string> names;
  for (const auto& e : fs::recursive_directory_iterator(dir)) {
    const std::string name = fs::relative(e.path(), dir).string();
    const auto events = name.find("events.out.tfevents.");
    names.insert(events == std::string::npos ? name : name.substr(0, events + 20));
  }
  return names;
}

void require_same_run(const fs::path& a, const fs::path& b) {
  const auto ra = read_rounds(a), rb = read_rounds(b);
  REQUIRE(ra.size() == rb.size());
  for (std::size_t r = 0; r < ra.size(); ++r) REQUIRE(metrics_of(ra[r]).dump() == metrics_of(rb[r]).dump());
  for (const char* file : {"model.pt", "predictions.csv", "partitions.json", "metrics.csv"})
    REQUIRE(fedglioma::read_file(a / file) == fedglioma::read_file(b / file));
}

}  // namespace

TEST_CASE("two processes give one process's metrics and files for fedavg, fedadam, scaffold and fedbn",
          "[distributed][slow][may_skip]") {
  if (skip_without_gloo()) return;
  for (const std::string strategy : {"fedavg", "fedadam", "scaffold", "fedbn"}) {
    INFO(strategy);
    const std::vector<std::string> overrides = {"federation.strategy.name=" + strategy, "federation.rounds=3",
                                                "eval.every=2"};
    std::vector<std::string> single = overrides;
    single.push_back("runtime.workers=2");
    const fs::path one = fedglioma::testing::tiny_run("dist-one-" + strategy, single);
    const fs::path dir = fedglioma::testing::temp_dir("dist-two-" + strategy);
    std::string output;
    REQUIRE(run_command(launch_command(dir, 2, overrides), &output) == 0);
    INFO(output);
    require_same_run(one, dir / "run");
    // Rank 0 alone writes the run folder: the same files as one process's run.
    REQUIRE(files_in(dir / "run") == files_in(one));
    REQUIRE_THAT(output, Catch::Contains("x 2 processes") && Catch::Contains("launch: 2 rank(s) finished"));
    // Each rank loads its clients' cases and its share of the evaluation, not all 16.
    REQUIRE_THAT(output, Catch::Contains(" of 16 case(s) preprocessed"));
  }
}

TEST_CASE("two processes give one process's metrics for FedBuff, FedAsync, a round deadline and DP noise",
          "[distributed][async][slow][may_skip]") {
  if (skip_without_gloo()) return;
  const std::vector<std::string> clock = {"partition.scheme=iid", "partition.num_clients=4", "federation.rounds=4",
                                          "federation.simulated_time.enabled=true",
                                          "federation.simulated_time.profile=fets2022"};
  const std::vector<std::vector<std::string>> variants = {
      {"federation.aggregation=fedbuff", "federation.concurrency=3", "federation.buffer_size=2"},
      {"federation.aggregation=fedasync", "federation.concurrency=2"},
      {"federation.deadline_s=600"},
      {"federation.dp.enabled=true", "federation.clients_per_round=0.5", "federation.dp.noise_multiplier=1"}};
  for (std::size_t v = 0; v < variants.size(); ++v) {
    std::vector<std::string> overrides = clock;
    overrides.insert(overrides.end(), variants[v].begin(), variants[v].end());
    INFO(variants[v].front());
    const fs::path one = fedglioma::testing::tiny_run("dist-async-one-" + std::to_string(v), overrides);
    const fs::path dir = fedglioma::testing::temp_dir("dist-async-two-" + std::to_string(v));
    std::string output;
    REQUIRE(run_command(launch_command(dir, 2, overrides), &output) == 0);
    INFO(output);
    require_same_run(one, dir / "run");
  }
}

TEST_CASE("two processes give one process's own models for ditto, fedrep and fine-tuning", "[distributed][slow][may_skip]") {
  if (skip_without_gloo()) return;
  const std::vector<std::vector<std::string>> variants = {
      {"federation.strategy.name=ditto"},
      {"federation.strategy.name=fedrep", "train.local_epochs=2"},
      {"eval.finetune_epochs=1"}};
  for (std::size_t v = 0; v < variants.size(); ++v) {
    std::vector<std::string> overrides = variants[v];
    overrides.push_back("federation.rounds=2");
    INFO(overrides.front());
    const fs::path one = fedglioma::testing::tiny_run("dist-own-one-" + std::to_string(v), overrides);
    const fs::path dir = fedglioma::testing::temp_dir("dist-own-two-" + std::to_string(v));
    std::string output;
    REQUIRE(run_command(launch_command(dir, 2, overrides), &output) == 0);
    INFO(output);
    require_same_run(one, dir / "run");
    for (const char* file : {"model-site-a.pt", "model-site-b.pt", "cross_site.csv"})
      REQUIRE(fedglioma::read_file(one / file) == fedglioma::read_file(dir / "run" / file));
  }
}

TEST_CASE("three processes over four clients (uneven shards) give one process's metrics", "[distributed][slow][may_skip]") {
  if (skip_without_gloo()) return;
  const std::vector<std::string> overrides = {"partition.scheme=iid", "partition.num_clients=4", "federation.rounds=2",
                                              "federation.strategy.name=fedadam"};
  const fs::path one = fedglioma::testing::tiny_run("dist-one-iid4", overrides);
  const fs::path dir = fedglioma::testing::temp_dir("dist-three-iid4");
  std::string output;
  REQUIRE(run_command(launch_command(dir, 3, overrides), &output) == 0);
  INFO(output);
  require_same_run(one, dir / "run");
}

TEST_CASE("a rank killed mid-run is named by the other within the timeout, and resume (3 ranks) gives the uninterrupted run",
          "[distributed][slow][may_skip]") {
  if (skip_without_gloo()) return;
  // Client state on disk: rank 1 spills its clients' SCAFFOLD controls into its scratch folder.
  const std::vector<std::string> overrides = {"federation.rounds=4", "runtime.distributed_timeout_s=20",
                                              "federation.strategy.name=scaffold", "runtime.client_state_ram_gb=0"};
  const fs::path reference = fedglioma::testing::tiny_run("dist-kill-reference", overrides);
  const fs::path dir = fedglioma::testing::temp_dir("dist-kill");
  const fs::path tmp = dir / "tmp";
  fs::create_directories(tmp);
  const std::string tmpdir = "TMPDIR='" + tmp.string() + "' ";
  const auto scratch_folders = [&] {
    std::size_t n = 0;
    for (const auto& e : fs::directory_iterator(tmp)) n += e.path().filename().string().rfind("fedglioma-rank", 0) == 0;
    return n;
  };
  const std::string rounds = (dir / "run" / "rounds.jsonl").string();
  // Launch, wait for round 2's line, SIGKILL rank 1 (found by its RANK), and wait for the launcher.
  std::string output;
  const auto start = std::chrono::steady_clock::now();
  const int status = run_command(
      "(" + tmpdir + launch_command(dir, 2, overrides) + " & lp=$!; "
      "while [ \"$(cat '" + rounds + "' 2>/dev/null | wc -l)\" -lt 2 ]; do sleep 0.02; done; "
      "for p in $(pgrep -P $lp); do if tr '\\0' '\\n' < /proc/$p/environ | grep -qx RANK=1; then kill -9 $p; fi; done; "
      "wait $lp)",
      &output);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  INFO(output);
  REQUIRE(status != 0);
  REQUIRE_THAT(output, Catch::Contains("rank 0 of 2: lost rank 1") && Catch::Contains("launch: rank 1 of 2 was killed by signal 9"));
  REQUIRE(seconds < 60);
  REQUIRE_FALSE(fs::exists(dir / "run" / "summary.json"));
  REQUIRE(scratch_folders() == 1);  // the killed rank's, which it could not remove

  // Resumed under another world size: nothing in the results depends on it.
  std::string resumed;
  const int resume_status =
      run_command(tmpdir + FEDGLIOMA_BINARY + " launch --procs 3 -- run --resume '" + (dir / "run").string() + "'", &resumed);
  INFO(resumed);
  REQUIRE(resume_status == 0);
  REQUIRE_THAT(resumed, Catch::Contains("resuming after round"));
  REQUIRE(scratch_folders() == 0);  // the dead rank's removed by the next, the new ranks' by themselves
  const auto a = read_rounds(reference), b = read_rounds(dir / "run");
  REQUIRE(a.size() == b.size());
  for (std::size_t r = 0; r < a.size(); ++r) REQUIRE(metrics_of(a[r]).dump() == metrics_of(b[r]).dump());
  REQUIRE(fedglioma::read_file(reference / "model.pt") == fedglioma::read_file(dir / "run" / "model.pt"));
}

TEST_CASE("a healthy rank slower than the timeout is waited for, not taken for lost", "[distributed][slow][may_skip]") {
  if (skip_without_gloo()) return;
  // Three clients over two ranks: rank 0 trains two, so rank 1 waits for it well past the 3 s
  // timeout every round; its heartbeat goes on, so it is slow, not lost (it failed the run before).
  const std::vector<std::string> overrides = {"partition.scheme=iid", "partition.num_clients=3", "federation.rounds=2",
                                              "train.local_epochs=150", "runtime.distributed_timeout_s=3"};
  const fs::path dir = fedglioma::testing::temp_dir("dist-slow");
  std::string output;
  const auto start = std::chrono::steady_clock::now();
  const int status = run_command(launch_command(dir, 2, overrides), &output);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  INFO(output);
  REQUIRE(status == 0);
  REQUIRE(fs::exists(dir / "run" / "summary.json"));
  // Rank 1 (client-1) waited for rank 0 longer than the timeout in each round, else this proves nothing.
  for (const auto& round : read_rounds(dir / "run")) {
    double rank1 = 0;
    for (const auto& c : round["clients"])
      if (c["id"] == "client-1") rank1 = c["train_seconds"].get<double>();
    REQUIRE(round["seconds"].get<double>() - rank1 > 3.0);
  }
  REQUIRE(seconds < 300);
}

TEST_CASE("a stopped rank 0 is named by the others within about the timeout", "[distributed][slow][may_skip]") {
  if (skip_without_gloo()) return;
  // SIGSTOP: rank 0's process (and the rendezvous store it serves) stops answering but its
  // connections stay open. Detection took about twice the timeout.
  const fs::path dir = fedglioma::testing::temp_dir("dist-stop0");
  const std::vector<std::string> overrides = {"federation.rounds=300", "runtime.distributed_timeout_s=10"};
  const std::string rounds = (dir / "run" / "rounds.jsonl").string();
  std::string output;
  std::string launch = launch_command(dir, 2, overrides);
  launch.replace(launch.find(" launch ") + 8, 0, "--grace 0 ");
  const int status = run_command(
      "(" + launch + " & lp=$!; "
      "while [ \"$(cat '" + rounds + "' 2>/dev/null | wc -l)\" -lt 1 ]; do sleep 0.02; done; "
      "for p in $(pgrep -P $lp); do if tr '\\0' '\\n' < /proc/$p/environ | grep -qx RANK=0; then kill -STOP $p; fi; done; "
      "echo \"stopped at $(date +%s%N)\"; wait $lp; echo \"ended at $(date +%s%N)\")",
      &output);
  INFO(output);
  REQUIRE(status == 0);  // the subshell's last command, the echo
  REQUIRE_THAT(output, Catch::Contains("rank 1 of 2: lost rank 0"));
  const auto stamp = [&](const std::string& label) {
    const auto at = output.find(label);
    REQUIRE(at != std::string::npos);
    return std::stod(output.substr(at + label.size())) / 1e9;
  };
  const double seconds = stamp("ended at ") - stamp("stopped at ");
  REQUIRE(seconds < 16);  // the timeout (10 s) and a few heartbeats, not twice the timeout
}

TEST_CASE("a process with another config is refused, never joined", "[distributed][may_skip]") {
  if (skip_without_gloo()) return;
  const fs::path dir = fedglioma::testing::temp_dir("dist-stranger");
  const auto options = fedglioma::testing::tiny_run_options(dir, {});
  const std::string env = "MASTER_ADDR=127.0.0.1 MASTER_PORT=" + std::to_string(fedglioma::experiments::free_loopback_port()) + " WORLD_SIZE=2 ";
  const std::string run = std::string(FEDGLIOMA_BINARY) + " run '" + options.config.string() + "' --out '" +
                          options.out.string() + "' --set runtime.distributed_timeout_s=20";
  std::string output;
  const int status = run_command("(" + env + "RANK=0 " + run + " & " + env + "RANK=1 " + run +
                                     " --set runtime.seed=99 > " + (dir / "rank1.log").string() + " 2>&1; r1=$?; "
                                     "wait $!; r0=$?; cat " + (dir / "rank1.log").string() + "; [ $r0 -ne 0 ] && [ $r1 -ne 0 ])",
                                 &output);
  INFO(output);
  REQUIRE(status == 0);  // both exited non-zero
  REQUIRE_THAT(output, Catch::Contains("rank 1 does not belong to rank 0's run") && Catch::Contains("config:"));
  REQUIRE_FALSE(fs::exists(options.out / "rounds.jsonl"));
}

TEST_CASE("ranks started by hand prove the same run: a fresh rank beside a resuming one, or other numerics, are refused",
          "[distributed][slow][may_skip]") {
  if (skip_without_gloo()) return;
  const fs::path dir = fedglioma::testing::temp_dir("dist-proof");
  const std::vector<std::string> overrides = {"federation.rounds=3", "runtime.distributed_timeout_s=20"};
  const auto options = fedglioma::testing::run_and_kill(dir, overrides, 1);  // one round logged, then SIGKILL
  const std::string before = fedglioma::read_file(options.out / "rounds.jsonl");
  const auto pair = [&](const std::string& rank0, const std::string& rank1) {
    const std::string env =
        "MASTER_ADDR=127.0.0.1 MASTER_PORT=" + std::to_string(fedglioma::experiments::free_loopback_port()) + " WORLD_SIZE=2 ";
    std::string output;
    const int status = run_command("(" + env + "RANK=0 " + rank0 + " & " + env + "RANK=1 " + rank1 + " > " +
                                       (dir / "rank1.log").string() + " 2>&1; r1=$?; wait $!; r0=$?; cat " +
                                       (dir / "rank1.log").string() + "; [ $r0 -ne 0 ] && [ $r1 -ne 0 ])",
                                   &output);
    INFO(output);
    REQUIRE(status == 0);  // both exited non-zero
    return output;
  };
  const std::string resume = std::string(FEDGLIOMA_BINARY) + " run --resume '" + options.out.string() + "'";
  std::string fresh = std::string(FEDGLIOMA_BINARY) + " run '" + options.config.string() + "' --out '" + options.out.string() + "'";
  for (const auto& o : overrides) fresh += " --set " + o;
  // A rank started fresh on the same config beside a resuming rank 0 (it paired up and folded its
  // round-1 updates into rounds 2-3 before).
  const std::string fresh_output = pair(resume, fresh);
  REQUIRE_THAT(fresh_output, Catch::Contains("does not belong to rank 0's run") && Catch::Contains("start:") &&
                                 Catch::Contains("a new run"));
  // Other CPU numerics on rank 1 (ATen's kernels pinned elsewhere).
  const std::string numerics_output = pair(resume, "ATEN_CPU_CAPABILITY=default " + resume);
  REQUIRE_THAT(numerics_output, Catch::Contains("does not belong to rank 0's run") && Catch::Contains("numerics."));
  REQUIRE(fedglioma::read_file(options.out / "rounds.jsonl") == before);  // nothing was run
}

TEST_CASE("launch says a config mistake once and refuses a port in use before any rank starts", "[distributed][may_skip]") {
  if (skip_without_gloo()) return;
  const fs::path dir = fedglioma::testing::temp_dir("dist-launch-checks");
  std::string output;
  REQUIRE(run_command(launch_command(dir, 3, {"train.lr=-1"}), &output) == 1);
  INFO(output);
  std::size_t said = 0;
  for (auto at = output.find("is out of range"); at != std::string::npos; at = output.find("is out of range", at + 1)) ++said;
  REQUIRE(said == 1);  // once, by the launcher: every rank printed it before
  REQUIRE_FALSE(fs::exists(dir / "run"));
  // A port another process listens on (another launch's rendezvous).
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof addr;
  REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
  REQUIRE(::listen(fd, 1) == 0);
  REQUIRE(::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &length) == 0);
  const std::string port = std::to_string(ntohs(addr.sin_port));
  std::string command = launch_command(dir, 2, {});
  command.replace(command.find(" launch ") + 8, 0, "--port " + port + " ");
  const int status = run_command(command, &output);
  ::close(fd);
  REQUIRE(status == 1);
  REQUIRE_THAT(output, Catch::Contains("--port " + port + " is in use") && !Catch::Contains("Socket Timeout"));
  REQUIRE_FALSE(fs::exists(dir / "run"));
}

TEST_CASE("a rank that never joins is named by the rendezvous, in one line and within the timeout", "[distributed][may_skip]") {
  if (skip_without_gloo()) return;
  const fs::path dir = fedglioma::testing::temp_dir("dist-lonely");
  const auto options = fedglioma::testing::tiny_run_options(dir, {});
  const std::string port = std::to_string(fedglioma::experiments::free_loopback_port());
  const std::string run = std::string(FEDGLIOMA_BINARY) + " run '" + options.config.string() + "' --out '" +
                          options.out.string() + "' --set runtime.distributed_timeout_s=3";
  std::string output;
  const auto start = std::chrono::steady_clock::now();
  REQUIRE(run_command("MASTER_ADDR=127.0.0.1 MASTER_PORT=" + port + " WORLD_SIZE=3 RANK=0 " + run, &output) == 1);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  INFO(output);
  REQUIRE_THAT(output, Catch::Contains("rank 0 of 3: rank(s) 1, 2 did not join the rendezvous at 127.0.0.1:" + port) &&
                           !Catch::Contains("Socket Timeout"));
  REQUIRE(seconds < 20);
  REQUIRE_FALSE(fs::exists(options.out / "rounds.jsonl"));
}

TEST_CASE("the launch environment is read as PyTorch's launchers set it, and bad values are named",
          "[distributed]") {
  std::string output;
  const std::string run = std::string(FEDGLIOMA_BINARY) + " run x.json --out /nonexistent/x";
  REQUIRE(run_command("WORLD_SIZE=two " + run, &output) == 1);
  REQUIRE_THAT(output, Catch::Contains("environment variable WORLD_SIZE=\"two\""));
  REQUIRE(run_command("WORLD_SIZE=2 RANK=2 " + run, &output) == 1);
  REQUIRE_THAT(output, Catch::Contains("environment variable RANK=\"2\": expected an integer in [0, 1]"));
  REQUIRE(run_command("WORLD_SIZE=2 " + run, &output) == 1);
  REQUIRE_THAT(output, Catch::Contains("RANK is unset"));
  // Only `run` spreads over ranks: a sweep under a launch is refused before it writes anything.
  REQUIRE(run_command("WORLD_SIZE=2 RANK=0 " + std::string(FEDGLIOMA_BINARY) + " sweep x.json", &output) == 1);
  REQUIRE_THAT(output, Catch::Contains("sweep does not run across the ranks"));
  if (fedglioma::sim::distributed_available()) {
    REQUIRE(run_command(std::string(FEDGLIOMA_BINARY) + " launch --procs 2 -- sweep x.json", &output) == 1);
    REQUIRE_THAT(output, Catch::Contains("launch runs `run` across processes"));
  }
}

TEST_CASE("with runtime.devices auto, LOCAL_RANK picks each process's GPU", "[distributed]") {
  using fedglioma::devices_of_local_rank;
  const std::vector<std::string> gpus = {"cuda:0", "cuda:1"};
  CHECK(devices_of_local_rank("auto", gpus, 0, 4) == std::vector<std::string>{"cuda:0"});
  CHECK(devices_of_local_rank("auto", gpus, 3, 4) == std::vector<std::string>{"cuda:1"});
  CHECK(devices_of_local_rank("auto", gpus, 1, 1) == gpus);  // one process uses every GPU
  CHECK(devices_of_local_rank("cuda:0,cuda:1", gpus, 1, 2) == gpus);  // an explicit list is kept
  CHECK(devices_of_local_rank("auto", {"cpu"}, 1, 2) == std::vector<std::string>{"cpu"});
}
