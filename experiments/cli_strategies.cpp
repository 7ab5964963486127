#include "experiments/cli_strategies.h"

#include <CLI/CLI.hpp>

#include "sim/strategy_registry.h"

namespace fedglioma::experiments {

CLI::App* setup_strategies(CLI::App& app) {
  return app.add_subcommand("strategies",
                            "List the aggregation strategies (federation.strategy.name) with their parameters, "
                            "defaults, ranges and sources, as a Markdown table");
}

void run_strategies(std::ostream& out) { out << sim::strategy_table_markdown(); }

}  // namespace fedglioma::experiments
