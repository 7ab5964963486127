#pragma once

// Typed reading of the merged config JSON, and the builders of experiments/config_schema.cpp's
// field declarations (one per kind of value). Every error names the key.
#include <nlohmann/json.hpp>

#include <array>
#include <set>
#include <string>
#include <type_traits>

#include "core/error.h"
#include "experiments/config_schema.h"

namespace fedglioma::experiments {

/// Typed access to the merged config; every error names the key.
class ConfigReader {
  using json = nlohmann::json;

 public:
  explicit ConfigReader(const json& root) : root_(root) {}

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
    if (!v.is_string()) throw ConfigError(path + ": expected a string, got " + json_type_name(v));
    const std::string s = v.get<std::string>();
    // A NUL would cut the text where the C library reads it (a path would name another file).
    if (s.find('\0') != std::string::npos)
      throw ConfigError(path + ": holds a NUL character (\\u0000), which no path or name may hold");
    if (!allowed.empty() && !allowed.count(s)) {
      std::string options;
      for (const auto& a : allowed) options += (options.empty() ? "" : ", ") + a;
      throw ConfigError(path + ": '" + s + "' is not one of " + options);
    }
    return s;
  }
  std::int64_t integer(const std::string& path, std::int64_t lo, std::int64_t hi) const {
    const json& v = at(path);
    if (!v.is_number_integer()) throw ConfigError(path + ": expected an integer, got " + json_type_name(v));
    // An unsigned value beyond int64 (2^63 and up) would read as negative: it is out of range as written.
    const bool too_large = v.is_number_unsigned() && v.get<std::uint64_t>() > static_cast<std::uint64_t>(hi);
    const auto x = too_large ? hi : v.get<std::int64_t>();
    if (too_large || x < lo || x > hi)
      throw ConfigError(path + ": " + v.dump() + " is out of range [" + std::to_string(lo) + ", " +
                        std::to_string(hi) + "]");
    return x;
  }
  double number(const std::string& path, double lo, double hi) const {
    const json& v = at(path);
    if (!v.is_number()) throw ConfigError(path + ": expected a number, got " + json_type_name(v));
    const double x = v.get<double>();
    if (!(x >= lo && x <= hi))
      throw ConfigError(path + ": " + v.dump() + " is out of range [" + json(lo).dump() + ", " + json(hi).dump() + "]");
    return x;
  }
  bool boolean(const std::string& path) const {
    const json& v = at(path);
    if (!v.is_boolean()) throw ConfigError(path + ": expected true or false, got " + json_type_name(v));
    return v.get<bool>();
  }

 private:
  const json& root_;
};


namespace config_fields {

using nlohmann::json;
using sim::ExperimentConfig;

// Field builders. `get` gives the member of a config, const or not: [](auto& c) -> auto& {...}
// (config_schema.cpp spells it MEMBER(section.key)).
template <class Get>
ConfigField number(std::string key, Get get, double lo, double hi, std::string help) {
  return {key, std::move(help),
          [=](const ConfigReader& r, ExperimentConfig& c) {
            auto& m = get(c);
            m = static_cast<std::decay_t<decltype(m)>>(r.number(key, lo, hi));
          },
          [=](const ExperimentConfig& c) { return json(get(c)); }};
}

template <class Get>
ConfigField integer(std::string key, Get get, std::int64_t lo, std::int64_t hi, std::string help) {
  return {key, std::move(help),
          [=](const ConfigReader& r, ExperimentConfig& c) {
            auto& m = get(c);
            m = static_cast<std::decay_t<decltype(m)>>(r.integer(key, lo, hi));
          },
          [=](const ExperimentConfig& c) { return json(get(c)); }};
}

template <class Get>
ConfigField boolean(std::string key, Get get, std::string help) {
  return {key, std::move(help), [=](const ConfigReader& r, ExperimentConfig& c) { get(c) = r.boolean(key); },
          [=](const ExperimentConfig& c) { return json(get(c)); }};
}

// A string; one of `allowed` when given.
template <class Get>
ConfigField text(std::string key, Get get, std::set<std::string> allowed, std::string help) {
  return {key, std::move(help), [=](const ConfigReader& r, ExperimentConfig& c) { get(c) = r.text(key, allowed); },
          [=](const ExperimentConfig& c) { return json(get(c)); }};
}

// A string naming an entry of a registry that can grow at run time: one of `names()` as it is
// when the config is read.
template <class Get, class Names>
ConfigField registered(std::string key, Get get, Names names, std::string help) {
  return {key, std::move(help), [=](const ConfigReader& r, ExperimentConfig& c) { get(c) = r.text(key, names()); },
          [=](const ExperimentConfig& c) { return json(get(c)); }};
}

// [i, j, k], or one value for all three; `edge` reads and checks one value.
template <class T, class Edge>
std::array<T, 3> triple(const ConfigReader& r, const std::string& key, const std::string& expected, Edge edge) {
  const json& v = r.at(key);
  if (!v.is_array()) return {edge(v), edge(v), edge(v)};
  if (v.size() != 3) throw ConfigError(key + ": expected " + expected + ", got " + v.dump());
  return {edge(v[0]), edge(v[1]), edge(v[2])};
}

// A map from client id to a positive number.
template <class Get>
ConfigField per_client(std::string key, Get get, std::string help) {
  return {key, std::move(help),
          [=](const ConfigReader& r, ExperimentConfig& c) {
            const json& v = r.at(key);
            if (!v.is_object()) throw ConfigError(key + ": expected an object, got " + json_type_name(v));
            for (auto it = v.begin(); it != v.end(); ++it) {
              const json& value = it.value();
              if (!value.is_number() || !(value.template get<double>() > 0))
                throw ConfigError(key + "." + it.key() + ": expected a positive number, got " + value.dump());
              get(c)[it.key()] = value.template get<double>();
            }
          },
          [=](const ExperimentConfig& c) { return get(c).empty() ? json::object() : json(get(c)); }};
}

}  // namespace config_fields
}  // namespace fedglioma::experiments
