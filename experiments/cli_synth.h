#pragma once

#include "data/synth.h"

namespace CLI {
class App;
}

namespace fedglioma::experiments {

/// `fedglioma synth`: registers the subcommand and its flags, bound to `options`.
CLI::App* setup_synth(CLI::App& app, data::SynthOptions& options);

/// Writes the synthetic cohort and prints where its manifest is.
int run_synth(const data::SynthOptions& options);

}  // namespace fedglioma::experiments
