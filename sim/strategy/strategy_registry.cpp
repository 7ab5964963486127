#include "sim/strategy/strategy_registry.h"

#include <algorithm>
#include <cstdio>
#include <mutex>
#include <stdexcept>

#include "core/error.h"
#include "sim/strategy/strategy.h"

namespace fedglioma::sim {

// One declaration per file in sim/strategies/ (the list is written by CMake at configure time).
#define FEDGLIOMA_STRATEGY_FILE(stem) void register_##stem(std::vector<StrategyEntry>& entries);
#include "fedglioma/strategy_files.inc"
#undef FEDGLIOMA_STRATEGY_FILE

namespace {

std::vector<StrategyEntry>& entries() {
  static std::vector<StrategyEntry> all = [] {
    std::vector<StrategyEntry> out;
#define FEDGLIOMA_STRATEGY_FILE(stem) register_##stem(out);
#include "fedglioma/strategy_files.inc"
#undef FEDGLIOMA_STRATEGY_FILE
    std::sort(out.begin(), out.end(), [](const StrategyEntry& a, const StrategyEntry& b) { return a.name < b.name; });
    return out;
  }();
  return all;
}

std::mutex& registry_mutex() {
  static std::mutex m;
  return m;
}

std::string number_text(double v, bool integer) {
  char text[32];
  std::snprintf(text, sizeof text, integer ? "%.0f" : "%g", v);
  return text;
}

// "`key` (default ...): help" for the strategy table.
std::string param_text(const StrategyParam& p) {
  std::string text = "`" + p.key + "` (";
  if (p.default_groups) {
    std::string names;
    for (const std::string& g : *p.default_groups) names += (names.empty() ? "" : ", ") + ("\"" + g + "\"");
    text += "[" + names + "], model parameter groups";
  } else if (p.boolean) {
    text += p.default_value != 0.0 ? "true" : "false";
  } else {
    text += number_text(p.default_value, p.integer) + (p.integer ? ", integer" : "") + " in [" +
            number_text(p.min, p.integer) + ", " + number_text(p.max, p.integer) + "]";
  }
  return text + "): " + p.help;
}

}  // namespace

StrategyParam label_aware_param() {
  StrategyParam p;
  p.key = "label_aware";
  p.boolean = true;
  p.max = 1.0;
  p.help = "weigh each parameter group by the client's cases that label it (see [Label-aware aggregation](#label-aware-aggregation))";
  return p;
}

const std::vector<StrategyEntry>& strategy_registry() {
  std::lock_guard<std::mutex> lock(registry_mutex());
  return entries();
}

void add_strategy(StrategyEntry entry) {
  std::lock_guard<std::mutex> lock(registry_mutex());
  auto& all = entries();
  for (const StrategyEntry& e : all)
    if (e.name == entry.name) throw std::logic_error("add_strategy: '" + entry.name + "' is already registered");
  const auto at = std::find_if(all.begin(), all.end(), [&](const StrategyEntry& e) { return e.name > entry.name; });
  all.insert(at, std::move(entry));
}

std::vector<std::string> strategy_names() {
  std::vector<std::string> names;
  for (const StrategyEntry& e : strategy_registry()) names.push_back(e.name);
  return names;
}

const StrategyEntry& strategy_entry(const std::string& name) {
  for (const StrategyEntry& e : strategy_registry())
    if (e.name == name) return e;
  std::string known;
  for (const std::string& n : strategy_names()) known += (known.empty() ? "" : ", ") + n;
  throw ConfigError("federation.strategy.name: unknown strategy '" + name + "' (known: " + known + ")");
}

StrategyConfig StrategyConfig::defaults(const std::string& name) {
  StrategyConfig c;
  c.name = name;
  for (const StrategyParam& p : strategy_entry(name).params) {
    if (p.default_groups) c.groups[p.key] = *p.default_groups;
    else c.params[p.key] = p.default_value;
  }
  return c;
}

std::unique_ptr<Strategy> make_strategy(const StrategyConfig& config, const StrategyContext& context) {
  const StrategyEntry& entry = strategy_entry(config.name);
  if (entry.keeps_client_state && !context.client_state)
    throw std::logic_error("make_strategy: " + entry.name + " keeps per-client state and needs StrategyContext::client_state");
  const auto label_aware = config.params.find("label_aware");
  if (label_aware != config.params.end() && label_aware->second != 0.0 && context.groups.empty())
    throw ConfigError("federation.strategy.label_aware: weighs the model's parameter groups by their labels, but " +
                      context.missing_groups);
  std::unique_ptr<Strategy> strategy = entry.make(config, context);
  if (strategy->personal() != entry.personal)
    throw std::logic_error("make_strategy: " + entry.name + "'s entry and its class disagree on personal()");
  return strategy;
}

std::vector<std::string> strategy_warnings(const StrategyConfig& strategy, const TrainConfig& train) {
  if (!strategy_entry(strategy.name).assumes_sgd) return {};
  const std::string assumes = "federation.strategy: " + strategy.name +
                              " assumes plain SGD local training (its client correction is recovered from the weight "
                              "change as if each step moved by lr x gradient)";
  if (train.optimizer != "sgd")
    return {assumes + "; with train.optimizer \"" + train.optimizer +
            "\" the correction is mis-scaled: set train.optimizer to \"sgd\""};
  if (train.momentum > 0)
    return {assumes + "; with train.momentum " + number_text(train.momentum, false) +
            " each step carries the ones before it and the correction is mis-scaled: set train.momentum to 0"};
  return {};
}

std::string strategy_table_markdown() {
  std::string out = "| name | what it does | parameters (defaults) | follows |\n| --- | --- | --- | --- |\n";
  for (const StrategyEntry& e : strategy_registry()) {
    std::string params;
    for (const StrategyParam& p : e.params) params += (params.empty() ? "" : ", ") + param_text(p);
    out += "| `" + e.name + "` | " + e.summary + (e.assumes_sgd ? " (assumes plain SGD: `train.optimizer: sgd`, `train.momentum: 0`)" : "") + " | " +
           (params.empty() ? "-" : params) + " | " + e.reference + " |\n";
  }
  return out;
}

}  // namespace fedglioma::sim
