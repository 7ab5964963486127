#pragma once

#include <filesystem>
#include <ostream>
#include <string>
#include <vector>

namespace CLI {
class App;
}

namespace fedglioma::experiments {

/// Flags of `fedglioma preprocess`.
struct PreprocessCliOptions {
  std::filesystem::path config;
  std::filesystem::path export_dir;    ///< empty: fill the cache only
  std::vector<std::string> overrides;  ///< --set key.path=value
  bool prune = false;                  ///< delete cache entries that are not this config's cases
};

/// `fedglioma preprocess`: registers the subcommand and its flags, bound to `options`.
CLI::App* setup_preprocess(CLI::App& app, PreprocessCliOptions& options);

/// Fills the cache for the config's manifest (showing progress on a terminal) and, with an
/// export folder, writes what the network sees: `<export>/<case>/{t1,t1c,t2,flair,mask}.nii.gz`
/// on the preprocessed grid (spacing, origin and direction set). Cases are processed in chunks,
/// so memory does not grow with the cohort; the export appears only when every case succeeded.
/// Returns the cases processed.
std::size_t run_preprocess(const PreprocessCliOptions& options, std::ostream& console);

}  // namespace fedglioma::experiments
