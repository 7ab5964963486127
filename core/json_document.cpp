#include "core/json_document.h"

#include <set>
#include <stdexcept>
#include <vector>

namespace fedglioma {

nlohmann::json parse_json_document(const std::string& text) {
  using json = nlohmann::json;
  std::vector<std::set<std::string>> open_objects;  // the keys seen in each object being parsed
  std::string repeated;
  const json::parser_callback_t watch = [&](int, json::parse_event_t event, json& parsed) {
    if (event == json::parse_event_t::object_start) open_objects.emplace_back();
    if (event == json::parse_event_t::object_end && !open_objects.empty()) open_objects.pop_back();
    if (event == json::parse_event_t::key && !open_objects.back().insert(parsed.get<std::string>()).second &&
        repeated.empty())
      repeated = parsed.get<std::string>();
    return true;
  };
  json doc;
  try {
    doc = json::parse(text, watch);  // strict: bytes after the document are an error too
  } catch (const json::exception& e) {  // a syntax error, or a number out of range (out_of_range.406)
    throw std::invalid_argument(std::string("not valid JSON: ") + e.what());
  }
  if (!repeated.empty())
    throw std::invalid_argument("key \"" + repeated + "\" appears twice in one object (only its last value would count)");
  return doc;
}

namespace {

void collect_differences(const nlohmann::json& was, const nlohmann::json& now, const std::string& path,
                         std::vector<std::string>& out) {
  if (was.is_object() && now.is_object()) {
    std::set<std::string> keys;
    for (const auto& item : was.items()) keys.insert(item.key());
    for (const auto& item : now.items()) keys.insert(item.key());
    for (const std::string& key : keys) {
      const std::string child = path.empty() ? key : path + "." + key;
      const nlohmann::json absent = "(absent)";
      collect_differences(was.contains(key) ? was.at(key) : absent, now.contains(key) ? now.at(key) : absent, child,
                          out);
    }
  } else if (was != now) {
    out.push_back((path.empty() ? std::string("(document)") : path) + ": " + was.dump() + " -> " + now.dump());
  }
}

}  // namespace

std::string json_differences(const nlohmann::json& was, const nlohmann::json& now, std::size_t limit) {
  std::vector<std::string> found;
  collect_differences(was, now, "", found);
  std::string text;
  for (std::size_t i = 0; i < found.size() && i < limit; ++i) text += (i ? "; " : "") + found[i];
  if (found.size() > limit) text += "; and " + std::to_string(found.size() - limit) + " more";
  return text;
}

}  // namespace fedglioma
