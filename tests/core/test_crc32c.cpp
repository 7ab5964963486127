#include <catch2/catch.hpp>

#include <array>
#include <cstdint>
#include <string>

#include "core/crc32c.h"

using namespace fedglioma;

TEST_CASE("crc32c matches the published CRC-32C check values", "[core][tensorboard]") {
  // The check value of the Rocksoft catalogue ("123456789") and RFC 3720's B.4 examples.
  const std::string check = "123456789";
  CHECK(crc32c(check.data(), check.size()) == 0xE3069283u);
  std::array<unsigned char, 32> bytes{};
  CHECK(crc32c(bytes.data(), bytes.size()) == 0x8A9136AAu);
  bytes.fill(0xFF);
  CHECK(crc32c(bytes.data(), bytes.size()) == 0x62A8AB43u);
  for (std::size_t i = 0; i < bytes.size(); ++i) bytes[i] = static_cast<unsigned char>(i);
  CHECK(crc32c(bytes.data(), bytes.size()) == 0x46DD794Eu);
  CHECK(crc32c(nullptr, 0) == 0u);
}

TEST_CASE("crc32c continues a CRC across pieces", "[core][tensorboard]") {
  const std::string text = "The quick brown fox jumps over the lazy dog";
  const std::uint32_t whole = crc32c(text.data(), text.size());
  for (std::size_t cut : {std::size_t{0}, std::size_t{1}, std::size_t{9}, text.size() - 1, text.size()}) {
    const std::uint32_t first = crc32c(text.data(), cut);
    CHECK(crc32c(text.data() + cut, text.size() - cut, first) == whole);
  }
  std::string flipped = text;
  flipped[20] ^= 1;
  CHECK(crc32c(flipped.data(), flipped.size()) != whole);
}

TEST_CASE("masked_crc32c is TFRecord's mask of the CRC", "[core][tensorboard]") {
  // 0xE3069283 rotated right by 15 bits is 0x2507C60D; plus 0xa282ead8 that is 0xC78AB0E5.
  const std::string check = "123456789";
  CHECK(masked_crc32c(check.data(), check.size()) == 0xC78AB0E5u);
  // The empty input's CRC is 0, so its mask is the delta alone.
  CHECK(masked_crc32c("", 0) == 0xA282EAD8u);
}
