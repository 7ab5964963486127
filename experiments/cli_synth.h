#pragma once

#include "data/synth.h"

namespace CLI {
class App;
}

namespace fedglioma::experiments {

/// Flags of `fedglioma synth`.
struct SynthCliOptions {
  data::SynthOptions cohort;  ///< what to generate, and --out
  bool force = false;         ///< --force: write into a folder of the user's that holds no cohort files
};

/// `fedglioma synth`: registers the subcommand and its flags, bound to `options`.
CLI::App* setup_synth(CLI::App& app, SynthCliOptions& options);

/// Writes the synthetic cohort and prints where its manifest is. The folder must be new, empty,
/// a cohort synth wrote (it carries .fedglioma-cohort) or, with --force, hold no manifest.json
/// and no site folder.
int run_synth(const SynthCliOptions& options);

}  // namespace fedglioma::experiments
