#include "experiments/cli_reference.h"

#include <CLI/CLI.hpp>

#include "experiments/config_schema.h"
#include "sim/strategy/strategy_registry.h"

namespace fedglioma::experiments {

ReferenceCommands setup_reference(CLI::App& app) {
  ReferenceCommands commands;
  commands.strategies = app.add_subcommand(
      "strategies", "List the aggregation strategies (federation.strategy.name) with their parameters, defaults, "
                    "ranges and sources, as a Markdown table");
  commands.config = app.add_subcommand(
      "config-reference", "List every config key with its default and meaning, as a Markdown table");
  return commands;
}

bool run_reference(const ReferenceCommands& commands, std::ostream& out) {
  if (commands.strategies->parsed()) out << sim::strategy_table_markdown();
  else if (commands.config->parsed()) out << config_reference_markdown();
  else return false;
  return true;
}

}  // namespace fedglioma::experiments
