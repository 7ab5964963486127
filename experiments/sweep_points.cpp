#include "experiments/sweep_points.h"

#include <sys/wait.h>

#include <map>
#include <optional>

#include "core/atomic_file.h"
#include "core/devices.h"
#include "core/error.h"
#include "core/json_document.h"
#include "core/owned_folder.h"
#include "core/remove_tree.h"
#include "experiments/child_process.h"

namespace fedglioma::experiments {
namespace {

namespace fs = std::filesystem;

// Why the results in `p.dir` are not `p`'s (its config changed since it ran), or "" when they are.
std::string stale_reason(const SweepPoint& p) {
  const fs::path ran = p.dir / "config.resolved.json";
  if (!fs::exists(ran)) return "";
  const std::string text = read_file(ran);
  if (text == p.resolved) return "";
  try {
    return json_differences(parse_json_document(text), parse_json_document(p.resolved), 3);
  } catch (const std::invalid_argument&) {
    return "its config.resolved.json is damaged";
  }
}

enum class Start { kSkip, kResume, kFresh };

// Refuses a point whose folder another process is still writing (a run that an earlier, killed
// sweep started): its folder is neither removed nor resumed nor read.
void require_not_in_use(const SweepPoint& p) {
  try {
    OwnedFolder::require_not_in_use(p.dir);
  } catch (const ConfigError& e) {
    throw ConfigError("sweep point " + p.name + ": " + e.what());
  }
}

// What a point needs, said on the console line its caller began; clears a folder that must start
// again.
Start prepare_point(const SweepPoint& p, std::ostream& console) {
  require_not_in_use(p);
  const std::string stale = stale_reason(p);
  std::error_code ec;
  if (!stale.empty()) {
    console << " (its config changed since it ran: " << stale << "; running it again)\n";
    remove_tree(p.dir, ec);
    return Start::kFresh;
  }
  if (fs::exists(p.dir / "summary.json")) {
    console << " (finished before, skipped)\n";
    return Start::kSkip;
  }
  if (fs::exists(p.dir / "checkpoints" / "latest.state")) {
    console << " (resumed)\n";
    return Start::kResume;
  }
  console << "\n";
  remove_tree(p.dir, ec);  // an interrupted point without a checkpoint starts again
  return Start::kFresh;
}

RunOptions resume_options(const SweepPoint& p) {
  RunOptions resume;
  resume.resume = p.dir;
  return resume;
}

// `fedglioma run` arguments for `o`.
std::vector<std::string> run_args(const RunOptions& o) {
  if (!o.resume.empty()) return {"run", "--resume", o.resume.string()};
  std::vector<std::string> args = {"run", o.config.string(), "--out", o.out.string()};
  for (const std::string& s : o.overrides) args.insert(args.end(), {"--set", s});
  return args;
}

// With runtime.devices "auto" and several GPUs: the GPU of job slot `slot`.
std::optional<std::string> slot_device(const SweepPoint& p, std::size_t slot) {
  const auto resolved = parse_json_document(p.resolved);
  if (resolved["runtime"]["devices"] != "auto") return std::nullopt;
  const std::vector<std::string> devices = resolve_devices("auto");
  if (devices.size() <= 1 || devices.front() == "cpu") return std::nullopt;
  return devices[slot % devices.size()];
}

// `fedglioma run` for point `index` in its own process, logging to `logs_dir`/<name>.log, on the
// GPU of job slot `slot` where there are several; nullopt when the point is finished already.
std::optional<pid_t> start_point(const std::vector<SweepPoint>& points, std::size_t index, std::size_t slot,
                                 const std::function<RunOptions(const SweepPoint&)>& options_of, const fs::path& logs_dir,
                                 std::ostream& console) {
  const SweepPoint& p = points[index];
  console << "sweep: point " << index + 1 << "/" << points.size() << ": " << p.name;
  const Start start = prepare_point(p, console);
  if (start == Start::kSkip) return std::nullopt;
  RunOptions o = start == Start::kResume ? resume_options(p) : options_of(p);
  if (const auto device = slot_device(p, slot); device && start == Start::kFresh)
    o.overrides.push_back("runtime.devices=" + *device);
  const fs::path log = logs_dir / (p.name + ".log");
  std::error_code ec;
  fs::remove(log, ec);
  return spawn_self(run_args(o), {}, log.string());
}

std::vector<PointFailure> run_in_parallel(const std::vector<SweepPoint>& points,
                                          const std::function<RunOptions(const SweepPoint&)>& options_of,
                                          std::size_t jobs, const fs::path& logs_dir, std::ostream& console) {
  fs::create_directories(logs_dir);
  std::map<pid_t, std::pair<std::size_t, std::size_t>> running;  // pid -> (point, slot)
  std::vector<bool> busy(jobs, false);
  std::vector<PointFailure> failures;
  std::size_t next = 0;
  auto fill = [&] {
    for (; next < points.size() && running.size() < jobs; ++next) {
      std::size_t slot = 0;
      while (busy[slot]) ++slot;
      if (const auto pid = start_point(points, next, slot, options_of, logs_dir, console)) {
        running[*pid] = {next, slot};
        busy[slot] = true;
      }
    }
  };
  fill();
  while (!running.empty()) {
    int status = 0;
    const pid_t pid = ::waitpid(-1, &status, 0);
    const auto it = running.find(pid);
    if (it == running.end()) continue;
    const auto [index, slot] = it->second;
    running.erase(it);
    busy[slot] = false;
    const std::string& name = points[index].name;
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0) console << "sweep: point " << name << " done\n";
    else failures.push_back({name, describe_exit(status) + " (" + (logs_dir / (name + ".log")).string() + ")"});
    fill();
  }
  return failures;
}

}  // namespace

std::vector<PointFailure> run_sweep_points(const std::vector<SweepPoint>& points,
                                           const std::function<RunOptions(const SweepPoint&)>& options_of, int jobs,
                                           const fs::path& logs_dir, std::ostream& console) {
  for (const SweepPoint& p : points) require_not_in_use(p);  // before any point starts
  if (jobs > 1) return run_in_parallel(points, options_of, static_cast<std::size_t>(jobs), logs_dir, console);
  std::vector<PointFailure> failures;
  for (std::size_t i = 0; i < points.size(); ++i) {
    console << "sweep: point " << i + 1 << "/" << points.size() << ": " << points[i].name;
    try {
      switch (prepare_point(points[i], console)) {
        case Start::kSkip: break;
        case Start::kResume: run_run(resume_options(points[i]), console); break;
        case Start::kFresh: run_run(options_of(points[i]), console); break;
      }
    } catch (const std::exception& e) {
      console << "sweep: point " << points[i].name << " failed: " << e.what() << "\n";
      failures.push_back({points[i].name, e.what()});
    }
  }
  return failures;
}

}  // namespace fedglioma::experiments
