#pragma once

#include <filesystem>
#include <ostream>
#include <string>
#include <vector>

namespace CLI {
class App;
}

namespace fedglioma::experiments {

/// Flags of `fedglioma sweep`.
struct SweepOptions {
  std::filesystem::path sweep;         ///< the sweep file (JSON)
  std::filesystem::path out;           ///< empty: the file's "out", else runs/<sweep name>
  std::vector<std::string> overrides;  ///< --set key.path=value, applied to every point
  bool force = false;                  ///< --force: write into an existing folder that is not a sweep folder
  int jobs = 1;                        ///< --jobs K: points run at once, each in its own process
};

CLI::App* setup_sweep(CLI::App& app, SweepOptions& options);

/// Runs every point of the sweep's grid into `<out>/points/<name>` (a finished point is skipped,
/// an interrupted one resumed from its checkpoint, either only while its resolved config is the one
/// the point ran with: a point whose config changed since, through the base config, "set" or
/// --set, runs again), then writes `<out>/points.json`, `<out>/sweep.csv` and `<out>/sweep.md`.
/// A value listed twice on one grid axis, or points that resolve to the same config, count once
/// (the console says so); two points whose folder names coincide are refused. `<out>` is an
/// owned folder (OwnedFolder, marker .fedglioma-sweep). Returns the sweep folder.
///
/// The sweep file: {"base": "config.json" (relative to the sweep file), "set": ["key=value", ...]
/// (optional, every point), "grid": {"key.path": [value, ...], ...}, "out": "folder" (optional)}.
/// Points are the Cartesian product of the grid, in the order of its keys as written.
std::filesystem::path run_sweep(const SweepOptions& options, std::ostream& console);

}  // namespace fedglioma::experiments
