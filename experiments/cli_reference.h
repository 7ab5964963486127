#pragma once

#include <ostream>

namespace CLI {
class App;
}

namespace fedglioma::experiments {

/// The reference subcommands, printed from the declarations that parse configs (so the tables of
/// docs/config.md and docs/strategies.md, which tests keep equal to them, cannot disagree with
/// the code).
struct ReferenceCommands {
  CLI::App* strategies = nullptr;  ///< `fedglioma strategies`: every strategy, its parameters and sources
  CLI::App* config = nullptr;      ///< `fedglioma config-reference`: every config key, its default and meaning
};

/// Registers `strategies` and `config-reference`.
ReferenceCommands setup_reference(CLI::App& app);

/// Prints the Markdown table of whichever of them was given; returns whether one was.
bool run_reference(const ReferenceCommands& commands, std::ostream& out);

}  // namespace fedglioma::experiments
