#pragma once

#include <ostream>

namespace CLI {
class App;
}

namespace fedglioma::experiments {

/// `fedglioma strategies`: registers the subcommand.
CLI::App* setup_strategies(CLI::App& app);

/// Prints every strategy with its parameters (defaults, ranges) and sources, as the README's
/// Markdown table; it comes from the registry that parses configs, so the two cannot disagree.
void run_strategies(std::ostream& out);

}  // namespace fedglioma::experiments
