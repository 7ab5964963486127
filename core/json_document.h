#pragma once

#include <nlohmann/json.hpp>

#include <string>

namespace fedglioma {

/// Parses `text` as exactly one JSON document, refusing what nlohmann::json would accept without a
/// word: a key repeated inside one object (only its last value would be kept). Throws
/// std::invalid_argument with the reason ("not valid JSON: ...", "key \"lr\" appears twice in one
/// object"); callers prefix the file and throw their own error type.
nlohmann::json parse_json_document(const std::string& text);

}  // namespace fedglioma
