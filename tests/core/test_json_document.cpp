#include <catch2/catch.hpp>

#include <stdexcept>

#include "core/json_document.h"

using fedglioma::json_differences;
using fedglioma::parse_json_document;
using nlohmann::json;

TEST_CASE("parse_json_document refuses repeated keys and trailing bytes", "[core][json]") {
  CHECK(parse_json_document(R"({"a": {"b": 1}, "c": [1, 2]})")["a"]["b"] == 1);
  CHECK_THROWS_WITH(parse_json_document(R"({"lr": 0.1, "lr": 0.001})"), Catch::Contains("\"lr\" appears twice"));
  CHECK_THROWS_AS(parse_json_document(R"({"a": 1} x)"), std::invalid_argument);
}

TEST_CASE("json_differences names each changed leaf with both values", "[core][json]") {
  const json was = {{"train", {{"lr", 0.001}, {"epochs", 1}}}, {"name", "a"}, {"gone", true}};
  const json now = {{"train", {{"lr", 0.01}, {"epochs", 1}}}, {"name", "b"}, {"new", 3}};
  CHECK(json_differences(was, was).empty());
  CHECK(json_differences(was, now) ==
        "gone: true -> \"(absent)\"; name: \"a\" -> \"b\"; new: \"(absent)\" -> 3; train.lr: 0.001 -> 0.01");
  CHECK(json_differences(was, now, 2) == "gone: true -> \"(absent)\"; name: \"a\" -> \"b\"; and 2 more");
}

TEST_CASE("a number too large for a double is invalid JSON, not another exception", "[core][json][fuzz]") {
  // Found by tests/fuzz/fuzz_config and fuzz_manifest: nlohmann::json throws out_of_range.406 for
  // it, which escaped as an internal error instead of the file's one-line message.
  CHECK_THROWS_AS(parse_json_document(R"({"lr": 666666.66666666666666E00000002985325346928896683})"),
                  std::invalid_argument);
  CHECK_THROWS_WITH(parse_json_document(R"({"cases": [6666666E6666]})"), Catch::Contains("not valid JSON"));
}
