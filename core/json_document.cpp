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
  } catch (const json::parse_error& e) {
    throw std::invalid_argument(std::string("not valid JSON: ") + e.what());
  }
  if (!repeated.empty())
    throw std::invalid_argument("key \"" + repeated + "\" appears twice in one object (only its last value would count)");
  return doc;
}

}  // namespace fedglioma
