#include "experiments/config_json.h"

#include <nlohmann/json.hpp>

#include <cmath>
#include <set>

#include "core/atomic_file.h"
#include "core/error.h"
#include "core/json_document.h"
#include "experiments/config_shape.h"
#include "sim/strategy_registry.h"

namespace fedglioma::experiments {
namespace {

using nlohmann::json;
using sim::ExperimentConfig;

std::string type_name(const json& v) {
  if (v.is_number_integer()) return "an integer";
  if (v.is_number()) return "a number";
  return std::string("a ") + v.type_name();
}

// Copies `user` over `into`, refusing keys that `into` (the defaults) does not have.
void merge_checked(json& into, const json& user, const std::string& prefix) {
  for (const auto& [key, value] : user.items()) {
    const std::string path = prefix.empty() ? key : prefix + "." + key;
    if (!into.contains(key)) {
      std::string known;
      for (const auto& [k, v] : into.items()) known += (known.empty() ? "" : ", ") + k;
      throw ConfigError("unknown config key '" + path + "' (known keys" + (prefix.empty() ? "" : " in '" + prefix + "'") +
                        ": " + known + ")");
    }
    json& target = into[key];
    if (target.is_object() && target.empty()) {  // a map with keys of the user's choosing
      if (!value.is_object()) throw ConfigError(path + ": expected an object, got " + type_name(value));
      target = value;
    } else if (target.is_object()) {
      if (!value.is_object()) throw ConfigError(path + ": expected an object, got " + type_name(value));
      merge_checked(target, value, path);
    } else {
      target = value;
    }
  }
}

void apply_override(json& user, const std::string& assignment) {
  const auto eq = assignment.find('=');
  if (eq == std::string::npos || eq == 0)
    throw ConfigError("--set '" + assignment + "': expected key.path=value");
  const std::string path = assignment.substr(0, eq), text = assignment.substr(eq + 1);
  json value = json::parse(text, nullptr, false);
  if (value.is_discarded()) value = text;  // not JSON: take it as a string
  json* node = &user;
  std::size_t start = 0;
  while (true) {
    const auto dot = path.find('.', start);
    const std::string key = path.substr(start, dot == std::string::npos ? std::string::npos : dot - start);
    if (key.empty()) throw ConfigError("--set '" + assignment + "': empty key in '" + path + "'");
    if (!node->is_object()) *node = json::object();
    if (dot == std::string::npos) {
      (*node)[key] = value;
      return;
    }
    node = &(*node)[key];
    start = dot + 1;
  }
}

// Typed access to the merged config; every error names the key.
class Reader {
 public:
  explicit Reader(const json& root) : root_(root) {}

  const json& at(const std::string& path) const {
    const json* node = &root_;
    std::size_t start = 0;
    while (true) {
      const auto dot = path.find('.', start);
      node = &node->at(path.substr(start, dot == std::string::npos ? std::string::npos : dot - start));
      if (dot == std::string::npos) return *node;
      start = dot + 1;
    }
  }
  std::string text(const std::string& path, const std::set<std::string>& allowed = {}) const {
    const json& v = at(path);
    if (!v.is_string()) throw ConfigError(path + ": expected a string, got " + type_name(v));
    const std::string s = v.get<std::string>();
    if (!allowed.empty() && !allowed.count(s)) {
      std::string options;
      for (const auto& a : allowed) options += (options.empty() ? "" : ", ") + a;
      throw ConfigError(path + ": '" + s + "' is not one of " + options);
    }
    return s;
  }
  std::int64_t integer(const std::string& path, std::int64_t lo, std::int64_t hi) const {
    const json& v = at(path);
    if (!v.is_number_integer()) throw ConfigError(path + ": expected an integer, got " + type_name(v));
    const auto x = v.get<std::int64_t>();
    if (x < lo || x > hi)
      throw ConfigError(path + ": " + std::to_string(x) + " is out of range [" + std::to_string(lo) + ", " +
                        std::to_string(hi) + "]");
    return x;
  }
  double number(const std::string& path, double lo, double hi) const {
    const json& v = at(path);
    if (!v.is_number()) throw ConfigError(path + ": expected a number, got " + type_name(v));
    const double x = v.get<double>();
    if (!(x >= lo && x <= hi))
      throw ConfigError(path + ": " + v.dump() + " is out of range [" + json(lo).dump() + ", " + json(hi).dump() + "]");
    return x;
  }
  bool boolean(const std::string& path) const {
    const json& v = at(path);
    if (!v.is_boolean()) throw ConfigError(path + ": expected true or false, got " + type_name(v));
    return v.get<bool>();
  }

 private:
  const json& root_;
};

sim::StrategyConfig read_strategy(const Reader& r) {
  const std::vector<std::string> names = sim::strategy_names();
  const std::string name = r.text("federation.strategy.name", std::set<std::string>(names.begin(), names.end()));
  sim::StrategyConfig s = sim::StrategyConfig::defaults(name);
  for (const sim::StrategyParam& p : sim::strategy_entry(name).params) {
    const std::string path = "federation.strategy." + p.key;
    s.params[p.key] = p.integer ? static_cast<double>(r.integer(path, static_cast<std::int64_t>(p.min),
                                                                 static_cast<std::int64_t>(p.max)))
                                : r.number(path, p.min, p.max);
  }
  return s;
}

ExperimentConfig read(const Reader& r) {
  ExperimentConfig c;
  c.data.manifest = r.text("data.manifest");
  const json& size = r.at("data.size");
  if (size.is_number_integer()) {
    const auto edge = r.integer("data.size", 8, 1024);
    c.data.size = {edge, edge, edge};
  } else if (size.is_array() && size.size() == 3) {
    for (std::size_t d = 0; d < 3; ++d) {
      if (!size[d].is_number_integer() || size[d].get<std::int64_t>() < 8 || size[d].get<std::int64_t>() > 1024)
        throw ConfigError("data.size: expected three integers in [8, 1024], got " + size.dump());
      c.data.size[d] = size[d].get<std::int64_t>();
    }
  } else {
    throw ConfigError("data.size: expected [i, j, k] voxels or one integer, got " + size.dump());
  }
  const json& spacing = r.at("data.spacing");
  if (spacing.is_number()) {
    const double mm = r.number("data.spacing", 0.01, 100.0);
    c.data.spacing = {mm, mm, mm};
  } else if (spacing.is_array() && spacing.size() == 3) {
    for (std::size_t d = 0; d < 3; ++d) {
      if (!spacing[d].is_number() || !(spacing[d].get<double>() >= 0.01 && spacing[d].get<double>() <= 100.0))
        throw ConfigError("data.spacing: expected three numbers in [0.01, 100] mm, got " + spacing.dump());
      c.data.spacing[d] = spacing[d].get<double>();
    }
  } else {
    throw ConfigError("data.spacing: expected [i, j, k] mm or one number, got " + spacing.dump());
  }
  c.data.on_geometry_mismatch = r.text("data.on_geometry_mismatch", {"error", "resample"});
  c.data.cache_dir = r.text("data.cache_dir");
  c.data.cache_ram_gb = r.number("data.cache_ram_gb", 1e-6, 1e6);
  c.partition.scheme = r.text("partition.scheme", {"natural", "iid", "dirichlet", "quantity"});
  c.partition.num_clients = static_cast<int>(r.integer("partition.num_clients", 1, 100000));
  c.partition.label = r.text("partition.label", {"idh", "codeletion_1p19q", "mgmt", "grade"});
  c.partition.alpha = r.number("partition.alpha", 1e-6, 1e6);
  c.partition.val_fraction = r.number("partition.val_fraction", 0.0, 0.9);
  c.model.name = r.text("model.name", {"multitask_unet3d"});
  c.model.depth = r.integer("model.depth", 1, 7);
  c.model.base_channels = r.integer("model.base_channels", 1, 1024);
  c.model.max_channels = r.integer("model.max_channels", c.model.base_channels, 4096);
  c.model.norm = r.text("model.norm", {"instance", "group", "batch"});
  c.model.grade_classes = r.integer("model.grade_classes", 2, 3);
  c.model.dropout = r.number("model.dropout", 0.0, 0.95);
  c.model.task_uncertainty = r.boolean("model.task_uncertainty");
  c.model.head_hidden = r.integer("model.head_hidden", 1, 4096);
  c.model.tumour_pooling = r.boolean("model.tumour_pooling");
  c.model.head_features = r.text("model.head_features", {"bottleneck", "all_levels"});
  const std::int64_t factor = std::int64_t{1} << (c.model.depth - 1);
  for (std::int64_t edge : c.data.size)
    if (edge % factor != 0)
      throw ConfigError("data.size: " + std::to_string(edge) + " is not divisible by 2^(model.depth-1) = " +
                        std::to_string(factor));
  c.train.local_epochs = static_cast<int>(r.integer("train.local_epochs", 1, 1000));
  c.train.batch_size = static_cast<int>(r.integer("train.batch_size", 1, 4096));
  c.train.optimizer = r.text("train.optimizer", {"adam", "adamw", "sgd"});
  c.train.nesterov = r.boolean("train.nesterov");
  c.train.lr_schedule = r.text("train.lr_schedule", {"constant", "cosine", "polynomial"});
  c.train.lr_min = r.number("train.lr_min", 0.0, 10.0);
  c.train.lr_power = r.number("train.lr_power", 0.0, 100.0);
  c.train.grad_clip = r.number("train.grad_clip", 0.0, 1e9);
  c.train.lr = r.number("train.lr", 1e-12, 10.0);
  c.train.momentum = r.number("train.momentum", 0.0, 0.999999);
  c.train.weight_decay = r.number("train.weight_decay", 0.0, 1.0);
  c.train.augment = r.boolean("train.augment");
  c.train.augment_gamma = r.number("train.augment_gamma", 0.0, 1.0);
  c.train.augment_noise = r.number("train.augment_noise", 0.0, 1.0);
  c.train.oversample_tumour = r.number("train.oversample_tumour", 0.0, 1.0);
  c.train.positive_class_weights = r.boolean("train.positive_class_weights");
  c.train.keep_optimizer_state = r.boolean("train.keep_optimizer_state");
  c.train.mixed_precision = r.boolean("train.mixed_precision");
  const json& patch = r.at("train.patch_size");
  if ((patch.is_number_integer() && patch.get<std::int64_t>() == 0) || patch == json::array({0, 0, 0})) {
    c.train.patch_size = {0, 0, 0};
  } else {
    const bool cube = patch.is_number_integer();
    if (!cube && !(patch.is_array() && patch.size() == 3))
      throw ConfigError("train.patch_size: expected 0 (whole volume), one integer or [i, j, k], got " + patch.dump());
    for (std::size_t d = 0; d < 3; ++d) {
      const json& edge = cube ? patch : patch[d];
      if (!edge.is_number_integer() || edge.get<std::int64_t>() < factor || edge.get<std::int64_t>() > c.data.size[d] ||
          edge.get<std::int64_t>() % factor != 0)
        throw ConfigError("train.patch_size: " + patch.dump() + " must be within data.size " +
                          json(c.data.size).dump() + " and divisible by 2^(model.depth-1) = " + std::to_string(factor));
      c.train.patch_size[d] = edge.get<std::int64_t>();
    }
  }
  c.train.loss_weights.mask = r.number("train.loss_weights.mask", 0.0, 1e6);
  const char* markers[] = {"idh", "codeletion_1p19q", "mgmt", "grade"};
  for (std::size_t m = 0; m < 4; ++m)
    c.train.loss_weights.markers[m] = r.number(std::string("train.loss_weights.") + markers[m], 0.0, 1e6);
  c.federation.mode = r.text("federation.mode", {"federated", "centralized", "local"});
  c.federation.rounds = static_cast<int>(r.integer("federation.rounds", 1, 100000));
  c.federation.clients_per_round = r.number("federation.clients_per_round", 1e-9, 1e9);
  if (c.federation.clients_per_round > 1 && c.federation.clients_per_round != std::floor(c.federation.clients_per_round))
    throw ConfigError("federation.clients_per_round: expected a fraction in (0, 1] or a whole count, got " +
                      r.at("federation.clients_per_round").dump());
  c.federation.min_clients = static_cast<int>(r.integer("federation.min_clients", 1, 1000000));
  c.federation.below_min_clients = r.text("federation.below_min_clients", {"skip", "stop"});
  c.federation.dropout = r.number("federation.dropout", 0.0, 1.0);
  c.federation.strategy = read_strategy(r);
  auto& st = c.federation.simulated_time;
  st.enabled = r.boolean("federation.simulated_time.enabled");
  st.samples_per_second = r.number("federation.simulated_time.samples_per_second", 1e-12, 1e12);
  st.megabits_per_second = r.number("federation.simulated_time.megabits_per_second", 1e-12, 1e12);
  for (const char* key : {"site_samples_per_second", "site_megabits_per_second"}) {
    const std::string path = std::string("federation.simulated_time.") + key;
    auto& into = std::string(key) == "site_samples_per_second" ? st.site_samples_per_second : st.site_megabits_per_second;
    for (const auto& [site, value] : r.at(path).items()) {
      if (!value.is_number() || !(value.get<double>() > 0))
        throw ConfigError(path + "." + site + ": expected a positive number, got " + value.dump());
      into[site] = value.get<double>();
    }
  }
  c.eval.every = static_cast<int>(r.integer("eval.every", 1, 100000));
  c.runtime.devices = r.text("runtime.devices");
  c.runtime.workers = static_cast<int>(r.integer("runtime.workers", 1, 256));
  c.runtime.threads_per_worker = static_cast<int>(r.integer("runtime.threads_per_worker", 1, 256));
  c.runtime.seed = static_cast<std::uint64_t>(r.integer("runtime.seed", 0, INT64_MAX));
  c.runtime.checkpoint_every = static_cast<int>(r.integer("runtime.checkpoint_every", 0, 1000000));
  c.runtime.client_state_ram_gb = r.number("runtime.client_state_ram_gb", 0.0, 1e6);
  c.runtime.cpu_numerics = r.text("runtime.cpu_numerics", {"portable", "native"});
  c.runtime.deterministic = r.boolean("runtime.deterministic");
  return c;
}

// Where a problem comes from: the --set whose key the message names (the longest such key),
// else the config file.
std::string culprit(const std::string& message, const std::vector<std::string>& overrides, const std::string& source) {
  std::string found, key_found;
  for (const std::string& o : overrides) {
    const std::string key = o.substr(0, o.find('='));
    if (!key.empty() && key.size() > key_found.size() && message.find(key) != std::string::npos) {
      found = "--set " + o;
      key_found = key;
    }
  }
  return found.empty() ? source : found;
}

}  // namespace

LoadedConfig parse_config(const std::string& text, const std::vector<std::string>& overrides,
                          const std::string& source) {
  json user;
  try {
    user = parse_json_document(text);
  } catch (const std::invalid_argument& e) {
    throw ConfigError(source + ": " + e.what());
  }
  if (!user.is_object()) throw ConfigError(source + ": expected a JSON object at the top level");
  for (const std::string& o : overrides) apply_override(user, o);
  // federation.strategy may be given as a bare name; its parameters depend on the name.
  ExperimentConfig defaults;
  if (user.contains("federation") && user["federation"].is_object() && user["federation"].contains("strategy")) {
    json& strategy = user["federation"]["strategy"];
    if (strategy.is_string()) strategy = json{{"name", strategy}};
    if (strategy.is_object() && strategy.contains("name") && strategy["name"].is_string())
      defaults.federation.strategy = sim::StrategyConfig::defaults(strategy["name"].get<std::string>());
  }
  json merged = config_to_json(defaults);
  try {
    merge_checked(merged, user, "");
    LoadedConfig out;
    out.config = read(Reader(merged));
    out.resolved_json = config_to_json(out.config).dump(2) + "\n";
    return out;
  } catch (const ConfigError& e) {
    throw ConfigError(culprit(e.what(), overrides, source) + ": " + e.what());
  }
}

LoadedConfig load_config(const std::filesystem::path& path, const std::vector<std::string>& overrides) {
  return parse_config(read_file(path, kMaxTextInputBytes), overrides, "'" + path.string() + "'");
}

}  // namespace fedglioma::experiments
