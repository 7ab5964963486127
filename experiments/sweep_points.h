#pragma once

#include <filesystem>
#include <functional>
#include <ostream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "experiments/cli_run.h"

namespace fedglioma::experiments {

/// One point of a sweep: its name, its grid settings, its run folder and resolved config.
struct SweepPoint {
  std::string name;
  nlohmann::ordered_json settings = nlohmann::ordered_json::object();  ///< key path -> value
  std::filesystem::path dir;
  std::string resolved;  ///< the point's resolved config (JSON text): what identifies its results
};

/// A point that did not finish, and why (its error, or how its process ended and its log).
struct PointFailure {
  std::string name, error;
};

/// Runs every point that has no finished result: a point whose config changed since it ran
/// starts again, a finished one is skipped, an interrupted one resumes from its checkpoint. A
/// point whose folder another process still holds (a run that a killed sweep left) is refused
/// with ConfigError before any point starts: its folder is never touched.
/// `jobs` 1: one after another in this process. `jobs` K > 1: up to K points at once, each a
/// `fedglioma run` process of its own with its output in `logs_dir`/<name>.log; with
/// runtime.devices "auto" and several GPUs, each running point gets one GPU of its own. The
/// numbers are the same either way (each point is one deterministic run). A point that fails
/// does not stop the others; the failures are returned, in the order they happened.
std::vector<PointFailure> run_sweep_points(const std::vector<SweepPoint>& points,
                                           const std::function<RunOptions(const SweepPoint&)>& options_of, int jobs,
                                           const std::filesystem::path& logs_dir, std::ostream& console);

}  // namespace fedglioma::experiments
