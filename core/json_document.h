#pragma once

#include <nlohmann/json.hpp>

#include <string>

namespace fedglioma {

/// Parses `text` as exactly one JSON document, refusing what nlohmann::json would accept without a
/// word: a key repeated inside one object (only its last value would be kept). Throws
/// std::invalid_argument with the reason ("not valid JSON: ...", "key \"lr\" appears twice in one
/// object"); callers prefix the file and throw their own error type.
nlohmann::json parse_json_document(const std::string& text);

/// The leaves (dotted key paths) where `was` and `now` differ, as "train.lr: 0.001 -> 0.01",
/// joined by "; ", at most `limit` of them and then "and N more". Empty when they are equal.
std::string json_differences(const nlohmann::json& was, const nlohmann::json& now, std::size_t limit = 5);

}  // namespace fedglioma
