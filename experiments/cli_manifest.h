#pragma once

#include <filesystem>
#include <ostream>
#include <vector>

#include "data/layouts.h"

namespace CLI {
class App;
}

namespace fedglioma::experiments {

/// Flags of `fedglioma manifest`.
struct ManifestCliOptions {
  data::LayoutOptions layout;
  std::vector<std::filesystem::path> merge;  ///< manifests to join instead of reading a layout
  std::vector<std::filesystem::path> crosswalks;
  bool crosswalk_sites = false;  ///< with --merge: each patient's site from the crosswalks' site column
  std::filesystem::path out;
};

/// `fedglioma manifest`: registers the subcommand and its flags, bound to `options`.
CLI::App* setup_manifest(CLI::App& app, ManifestCliOptions& options);

/// Builds the manifest from a layout, or joins `merge` (deduplicating patients, see
/// merge_manifests, and writing `<out stem>.merge-report.json` beside it); writes it atomically
/// and prints what it holds per label. Throws ConfigError when neither or both are asked for.
data::Manifest run_manifest(const ManifestCliOptions& options, std::ostream& console);

}  // namespace fedglioma::experiments
