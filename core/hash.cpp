#include "core/hash.h"

#include <cstdio>
#include <cstring>
#include <fstream>
#include <vector>

#include "core/error.h"

namespace fedglioma {

namespace {
constexpr std::uint64_t kFnvOffset = 0xcbf29ce484222325ULL;
constexpr std::uint64_t kFnvPrime = 0x100000001b3ULL;
constexpr std::uint64_t kGolden = 0x9E3779B97F4A7C15ULL;
}  // namespace

std::uint64_t fnv1a(std::string_view bytes) {
  std::uint64_t h = kFnvOffset;
  for (unsigned char c : bytes) h = (h ^ c) * kFnvPrime;
  return h;
}

std::uint64_t fnv1a_words(const char* data, std::size_t size) {
  std::uint64_t h = kFnvOffset;
  std::size_t i = 0;
  for (; i + 8 <= size; i += 8) {
    std::uint64_t word;
    std::memcpy(&word, data + i, 8);
    h = (h ^ word) * kFnvPrime;
  }
  for (; i < size; ++i) h = (h ^ static_cast<unsigned char>(data[i])) * kFnvPrime;
  return h;
}

std::uint64_t content_hash(const void* bytes, std::size_t n) {
  const auto* data = static_cast<const char*>(bytes);
  std::uint64_t lane[4] = {0x243F6A8885A308D3ULL, 0x13198A2E03707344ULL, 0xA4093822299F31D0ULL, 0x082EFA98EC4E6C89ULL};
  std::size_t i = 0;
  for (; i + 32 <= n; i += 32) {
    for (int k = 0; k < 4; ++k) {
      std::uint64_t w;
      std::memcpy(&w, data + i + 8 * k, 8);
      lane[k] = (lane[k] ^ w) * kGolden;
      lane[k] ^= lane[k] >> 29;
    }
  }
  std::uint64_t h = n;
  for (int k = 0; k < 4; ++k) h = (h ^ lane[k]) * kGolden;
  for (; i < n; ++i) h = (h ^ static_cast<unsigned char>(data[i])) * kFnvPrime;
  return h ^ (h >> 32);
}

std::uint64_t file_content_hash(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw IoError("'" + path.string() + "': cannot be read");
  std::vector<char> block(1 << 20);
  std::uint64_t h = kFnvOffset;
  while (in) {
    in.read(block.data(), static_cast<std::streamsize>(block.size()));
    const auto got = static_cast<std::size_t>(in.gcount());
    if (got == 0) break;
    h = (h ^ content_hash(block.data(), got)) * kGolden;
  }
  if (in.bad()) throw IoError("'" + path.string() + "': read failed");
  return h;
}

std::uint64_t file_sample_hash(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary | std::ios::ate);
  if (!in) throw IoError("'" + path.string() + "': cannot be read");
  const auto size = static_cast<std::uint64_t>(in.tellg());
  constexpr std::uint64_t kBlock = 1 << 16;
  std::vector<char> block(kBlock);
  std::uint64_t h = kFnvOffset ^ size;
  for (const std::uint64_t at : {std::uint64_t{0}, size / 2, size > kBlock ? size - kBlock : 0}) {
    in.seekg(static_cast<std::streamoff>(at));
    in.read(block.data(), static_cast<std::streamsize>(kBlock));
    const auto got = static_cast<std::size_t>(in.gcount());
    in.clear();
    h = (h ^ content_hash(block.data(), got)) * kGolden;
  }
  return h;
}

std::string hex64(std::uint64_t h) {
  char text[17];
  std::snprintf(text, sizeof text, "%016llx", static_cast<unsigned long long>(h));
  return text;
}

}  // namespace fedglioma
