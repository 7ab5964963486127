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
