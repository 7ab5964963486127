#pragma once

#include <filesystem>
#include <ostream>

#include "data/layouts.h"

namespace CLI {
class App;
}

namespace fedglioma::experiments {

/// Flags of `fedglioma manifest`.
struct ManifestCliOptions {
  data::LayoutOptions layout;
  std::filesystem::path out;
};

/// `fedglioma manifest`: registers the subcommand and its flags, bound to `options`.
CLI::App* setup_manifest(CLI::App& app, ManifestCliOptions& options);

/// Builds the manifest, writes it (atomically) and prints what it holds per label.
data::Manifest run_manifest(const ManifestCliOptions& options, std::ostream& console);

}  // namespace fedglioma::experiments
