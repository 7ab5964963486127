#include <catch2/catch.hpp>

#include <fstream>
#include <string>

#include "core/error.h"
#include "core/hash.h"
#include "tests/support/fixtures.h"

using namespace fedglioma;

TEST_CASE("fnv1a matches the published FNV-1a 64 test vectors", "[core][hash]") {
  CHECK(fnv1a("") == 0xcbf29ce484222325ULL);
  CHECK(fnv1a("a") == 0xaf63dc4c8601ec8cULL);
  CHECK(fnv1a("foobar") == 0x85944171f73967e8ULL);
  CHECK(hex64(0xaf63dc4c8601ec8cULL) == "af63dc4c8601ec8c");
}

TEST_CASE("content_hash and file_content_hash see every byte and the length", "[core][hash]") {
  std::string bytes(3 * (1 << 20) + 7, '\0');
  for (std::size_t i = 0; i < bytes.size(); ++i) bytes[i] = static_cast<char>(i * 131 % 251);
  const std::uint64_t whole = content_hash(bytes.data(), bytes.size());
  std::string flipped = bytes;
  flipped[2 * (1 << 20) + 5] ^= 1;
  CHECK(content_hash(flipped.data(), flipped.size()) != whole);
  CHECK(content_hash(bytes.data(), bytes.size() - 1) != whole);

  const auto dir = testing::temp_dir("hash");
  auto write = [&](const std::string& name, const std::string& text) {
    std::ofstream(dir / name, std::ios::binary) << text;
    return dir / name;
  };
  const auto a = write("a.bin", bytes), b = write("b.bin", bytes), c = write("c.bin", flipped);
  CHECK(file_content_hash(a) == file_content_hash(b));
  CHECK(file_content_hash(a) != file_content_hash(c));
  CHECK_THROWS_AS(file_content_hash(dir / "missing.bin"), IoError);
}
