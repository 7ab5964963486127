// What crosses processes: values, texts and arrays, read back in order; empty arrays and texts
// (a strategy without personal models sends an empty one) and truncated messages.
#include <catch2/catch.hpp>

#include <cstdint>
#include <string>
#include <vector>

#include "core/byte_codec.h"
#include "core/error.h"

TEST_CASE("byte codec reads back what it wrote, empty arrays and texts included", "[core][codec]") {
  fedglioma::ByteWriter w;
  w.put<std::uint64_t>(7);
  w.put_array(std::vector<float>{});
  w.put_text("");
  w.put_array(std::vector<float>{1.5f, -2.0f});
  w.put(3.25);
  w.put_text("rank 1");
  const std::string bytes = w.take();
  fedglioma::ByteReader r(bytes, "a test message");
  REQUIRE(r.get<std::uint64_t>() == 7);
  REQUIRE(r.get_array<float>().empty());
  REQUIRE(r.get_text().empty());
  REQUIRE(r.get_array<float>() == std::vector<float>{1.5f, -2.0f});
  REQUIRE(r.get<double>() == 3.25);
  REQUIRE(r.get_text() == "rank 1");
  REQUIRE(r.done());
  // A message cut short is an error naming it, never a read past its end.
  const std::string cut = bytes.substr(0, bytes.size() - 3);
  fedglioma::ByteReader short_reader(cut, "round 2's client updates");
  short_reader.get<std::uint64_t>();
  short_reader.get_array<float>();
  short_reader.get_text();
  short_reader.get_array<float>();
  short_reader.get<double>();
  REQUIRE_THROWS_WITH(short_reader.get_text(), Catch::Contains("round 2's client updates") && Catch::Contains("truncated"));
}
