#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "sim/config/experiment_config.h"

namespace fedglioma::sim {

class Strategy;
struct StrategyContext;

/// One parameter of a strategy, as `federation.strategy.<key>` in a config.
struct StrategyParam {
  std::string key;
  double default_value = 0.0;
  double min = 0.0, max = 0.0;  ///< the accepted range, both ends included
  bool integer = false;
  std::string help;  ///< what it sets, and where its default comes from
  /// A switch: true or false in a config, 1 or 0 in StrategyConfig::params.
  bool boolean = false;
  /// A list of the model's parameter group names (StrategyConfig::groups) with this default,
  /// instead of a number; checked against the model when the strategy is built.
  std::optional<std::vector<std::string>> default_groups = std::nullopt;
};

/// federation.strategy.label_aware, the switch of the mean-based strategies and the FedOpt family
/// (sim/strategy/label_aware.h).
StrategyParam label_aware_param();

/// A strategy as users and the config see it. Config parsing, the resolved config, `fedglioma
/// strategies` and docs/strategies.md's table all come from these entries.
struct StrategyEntry {
  std::string name;       ///< federation.strategy.name
  std::string summary;    ///< what it does, in one line
  std::string reference;  ///< the paper, and the implementation its defaults follow
  std::vector<StrategyParam> params;
  /// Its client correction assumes plain SGD local training (SCAFFOLD's control variates are
  /// gradients recovered through train.lr); a run with another optimizer is warned.
  bool assumes_sgd = false;
  /// It keeps state per client (StrategyContext::client_state must be set).
  bool keeps_client_state = false;
  /// Its clients deploy models of their own (Strategy::personal): evaluation covers those too.
  bool personal = false;
  std::function<std::unique_ptr<Strategy>(const StrategyConfig&, const StrategyContext&)> make;
};

/// Every strategy, by name. The entries come from the files in sim/strategies/: each defines
/// `void register_<file name>(std::vector<StrategyEntry>&)`, which the build finds (a file there
/// is a strategy, with nothing else to edit), plus any added with add_strategy().
const std::vector<StrategyEntry>& strategy_registry();

/// Adds a strategy at run time (an extension, or a test's). Throws std::logic_error for a name
/// already taken.
void add_strategy(StrategyEntry entry);

/// The entry named `name`; ConfigError naming federation.strategy.name and the known names.
const StrategyEntry& strategy_entry(const std::string& name);

/// The strategy names, sorted.
std::vector<std::string> strategy_names();

/// The strategy `config.name` names, built by its entry. Throws ConfigError for another name.
std::unique_ptr<Strategy> make_strategy(const StrategyConfig& config, const StrategyContext& context);

/// The warnings for a strategy used against its assumptions (SCAFFOLD with Adam, AdamW or SGD
/// momentum: its control variates assume plain SGD steps); empty when there are none. A run
/// prints each and records them in summary.json (`warnings`).
std::vector<std::string> strategy_warnings(const StrategyConfig& strategy, const TrainConfig& train);

/// The strategy table (Markdown, docs/strategies.md), one row per entry.
std::string strategy_table_markdown();

}  // namespace fedglioma::sim
