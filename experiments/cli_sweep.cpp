#include "experiments/cli_sweep.h"

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <functional>
#include <cstdio>
#include <fstream>
#include <map>
#include <set>

#include "core/atomic_file.h"
#include "core/error.h"
#include "core/file_names.h"
#include "core/json_document.h"
#include "core/numerics.h"
#include "core/owned_folder.h"
#include "data/csv_table.h"
#include "data/manifest.h"
#include "experiments/cli_run.h"
#include "experiments/config_json.h"
#include "experiments/sweep_points.h"
#include "experiments/sweep_tables.h"
#include "sim/processes/processes.h"
#include "sim/record/run_log.h"

namespace fedglioma::experiments {
namespace {

namespace fs = std::filesystem;
// ordered_json keeps the grid's keys in the order the user wrote them.
using json = nlohmann::ordered_json;


using Point = SweepPoint;

// What sweep writes into its folder.
const OwnedFolder::Kind kSweepFolder{"sweep", "--force", {"points", "points.json", "sweep.csv", "sweep.md", "logs"}};

// A folder-safe rendering of a grid value: strings as they are, objects by their values.
std::string label_of(const json& value) {
  std::string text = value.is_string() ? value.get<std::string>() : value.dump();
  std::string out;
  for (char c : text) {
    if (std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-') {
      out += c;
    } else if (!out.empty() && out.back() != '_') {
      out += '_';
    }
  }
  while (!out.empty() && out.back() == '_') out.pop_back();
  return out.empty() ? "x" : out;
}

std::string last_key(const std::string& path) {
  const auto dot = path.rfind('.');
  return dot == std::string::npos ? path : path.substr(dot + 1);
}

// The axis's values without repeats (a value listed twice would count twice in sweep.md).
json distinct_values(const std::string& key, const json& values, std::ostream& console) {
  json out = json::array();
  for (const json& v : values) {
    if (std::find(out.begin(), out.end(), v) != out.end()) {
      console << "sweep: grid '" << key << "' lists " << v.dump() << " more than once; it counts once\n";
      continue;
    }
    out.push_back(v);
  }
  return out;
}

std::vector<Point> expand(const json& grid, const fs::path& out, std::ostream& console) {
  std::vector<Point> points(1);
  for (const auto& [key, listed] : grid.items()) {
    if (!listed.is_array() || listed.empty())
      throw ConfigError("sweep grid '" + key + "': expected a non-empty list of values");
    const json values = distinct_values(key, listed, console);
    std::vector<Point> next;
    for (const Point& p : points)
      for (const json& v : values) {
        Point q = p;
        q.settings[key] = v;
        q.name += (q.name.empty() ? "" : "__") + last_key(key) + "-" + label_of(v);
        next.push_back(q);
      }
    points = std::move(next);
  }
  std::map<std::string, const Point*> by_name;
  for (Point& p : points) {
    try {
      p.dir = child_path(out / "points", p.name, "point name", "sweep grid point " + p.settings.dump());
    } catch (const DataError& e) {
      throw ConfigError(std::string(e.what()) + "; shorten the grid's values or keys");
    }
    const auto [it, fresh] = by_name.emplace(p.name, &p);
    if (!fresh)
      throw ConfigError("sweep grid: points " + it->second->settings.dump() + " and " + p.settings.dump() +
                        " would share the folder points/" + p.name + "; make the values differ in letters or digits");
  }
  return points;
}

// The configs of every point, loaded (and so checked) before the first one runs; points that
// resolve to a config an earlier point has (for example {"name": "fedavg"} and "fedavg") are dropped.
std::vector<Point> resolve_points(std::vector<Point> points, const std::function<RunOptions(const Point&)>& options_of,
                                  std::set<std::string>& cpu_numerics, std::ostream& console) {
  std::vector<Point> kept;
  std::map<std::string, std::string> seen;  // resolved config -> point name
  for (Point& p : points) {
    const RunOptions o = options_of(p);
    try {
      const LoadedConfig loaded = load_config(o.config, o.overrides);
      cpu_numerics.insert(loaded.config.runtime.cpu_numerics);
      p.resolved = loaded.resolved_json;
    } catch (const ConfigError& e) {
      throw ConfigError("sweep point " + p.name + ": " + e.what());
    }
    const auto [it, fresh] = seen.emplace(p.resolved, p.name);
    if (!fresh) {
      console << "sweep: point " << p.name << " has the same config as " << it->second << "; it counts once\n";
      continue;
    }
    kept.push_back(std::move(p));
  }
  return kept;
}

// A sweep file, read and checked: the base config, its grid, the settings every point shares
// ("set" and --set) and the sweep folder.
struct SweepSpec {
  json grid;
  fs::path base, out;
  std::vector<std::string> fixed;
};

SweepSpec read_spec(const SweepOptions& options) {
  const std::string source = "'" + options.sweep.string() + "'";
  json spec;
  try {
    spec = parse_json_document(read_file(options.sweep, kMaxTextInputBytes));
  } catch (const std::invalid_argument& e) {
    throw ConfigError(source + ": " + e.what());
  }
  if (!spec.is_object()) throw ConfigError(source + ": expected a JSON object");
  for (const auto& [key, value] : spec.items())
    if (key != "base" && key != "grid" && key != "set" && key != "out")
      throw ConfigError(source + ": unknown key '" + key + "' (known keys: base, grid, set, out)");
  if (!spec.contains("base") || !spec["base"].is_string()) throw ConfigError(source + ": \"base\": expected a config path");
  if (!spec.contains("grid") || !spec["grid"].is_object() || spec["grid"].empty())
    throw ConfigError(source + ": \"grid\": expected an object of key.path -> list of values");
  SweepSpec sweep;
  sweep.base = options.sweep.parent_path() / spec["base"].get<std::string>();
  if (spec.contains("set")) {
    if (!spec["set"].is_array()) throw ConfigError(source + ": \"set\": expected a list of \"key=value\" strings");
    for (const json& s : spec["set"]) {
      if (!s.is_string()) throw ConfigError(source + ": \"set\": expected a list of \"key=value\" strings");
      sweep.fixed.push_back(s.get<std::string>());
    }
  }
  sweep.fixed.insert(sweep.fixed.end(), options.overrides.begin(), options.overrides.end());
  if (spec.contains("out") && !spec["out"].is_string())
    throw ConfigError(source + ": \"out\": expected a folder path (a string), found " + spec["out"].dump());
  sweep.out = !options.out.empty()    ? options.out
              : spec.contains("out") ? fs::path(spec["out"].get<std::string>())
                                     : fs::path("runs") / options.sweep.stem();
  sweep.grid = spec["grid"];
  return sweep;
}

}  // namespace

CLI::App* setup_sweep(CLI::App& app, SweepOptions& options) {
  CLI::App* cmd = app.add_subcommand("sweep", "Run a grid of experiments (strategies x seeds x ...) and compare them");
  cmd->add_option("sweep", options.sweep, "Sweep file (JSON): base config, grid, fixed settings")->required();
  cmd->add_option("--out", options.out, "Sweep folder (default: the file's \"out\", else runs/<sweep name>)");
  cmd->add_option("--set", options.overrides, "Override a config field of every point: key.path=value (repeatable)");
  cmd->add_option("--jobs", options.jobs,
                  "Points run at once, each a process of its own (logs in the sweep's logs/; a GPU each with "
                  "runtime.devices auto); same numbers as one at a time")
      ->check(CLI::Range(1, 1024));
  cmd->add_flag("--force", options.force,
                "Write into an existing folder that is not a sweep folder (refused if it holds any file a sweep writes)");
  return cmd;
}

fs::path run_sweep(const SweepOptions& options, std::ostream& console) {
  if (sim::read_launch_env().world > 1)
    throw ConfigError("sweep does not run across the ranks of a launch (WORLD_SIZE > 1): run it in one process, with "
                      "--jobs K to run K points at once");
  const std::string source = "'" + options.sweep.string() + "'";
  const SweepSpec sweep = read_spec(options);
  const fs::path& base = sweep.base;
  const fs::path& out = sweep.out;
  const std::vector<std::string>& fixed = sweep.fixed;
  std::vector<Point> points;
  try {
    points = expand(sweep.grid, out, console);
  } catch (const ConfigError& e) {
    throw ConfigError(source + ": " + e.what());
  }

  // Every point's config is checked before the first one runs.
  auto run_options = [&](const Point& p) {
    RunOptions o;
    o.config = base;
    o.out = p.dir;
    o.overrides = fixed;
    for (const auto& [key, value] : p.settings.items())
      o.overrides.push_back(key + "=" + (value.is_string() ? value.get<std::string>() : value.dump()));
    return o;
  };
  std::set<std::string> cpu_numerics;
  points = resolve_points(std::move(points), run_options, cpu_numerics, console);
  // CPU kernels are chosen once per process: one sweep computes with one runtime.cpu_numerics.
  if (cpu_numerics.size() > 1)
    throw ConfigError(source + ": runtime.cpu_numerics must be the same for every point (a sweep runs in one process)");
  require_cpu_numerics(*cpu_numerics.begin());
  const OwnedFolder folder = fs::exists(out / "points.json") && !options.force
                                 ? OwnedFolder::reopen(out, kSweepFolder, {"points.json"})
                                 : OwnedFolder::claim(out, kSweepFolder, options.force);
  json listing = json::array();
  for (const Point& p : points) listing.push_back({{"name", p.name}, {"dir", "points/" + p.name}, {"settings", p.settings}});
  fs::create_directories(out / "points");
  write_file_atomic(out / "points.json", listing.dump(2) + "\n");

  const std::vector<PointFailure> failures = run_sweep_points(points, run_options, options.jobs, out / "logs", console);
  std::vector<std::string> keys;
  for (const auto& [key, values] : sweep.grid.items()) keys.push_back(key);
  write_sweep_tables(out, options.sweep.stem().string(), keys, points, failures);
  console << "sweep folder: " << out.string() << " (sweep.csv, sweep.md)\n";
  if (!failures.empty()) {
    std::string named;
    for (const PointFailure& f : failures) named += "; " + f.name + ": " + f.error;
    throw Error("sweep: " + std::to_string(failures.size()) + " of " + std::to_string(points.size()) +
                " point(s) failed (the tables hold the others)" + named);
  }
  return out;
}


}  // namespace fedglioma::experiments
