#include "sim/state/model_archive.h"

#include <cstdint>
#include <cstring>

#include "core/error.h"

namespace fedglioma::sim {
namespace {

std::uint64_t little_endian(const std::string& bytes, std::size_t at, int width) {
  std::uint64_t value = 0;
  for (int i = width - 1; i >= 0; --i) value = (value << 8) | static_cast<unsigned char>(bytes[at + static_cast<std::size_t>(i)]);
  return value;
}

struct Entry {
  std::string name;
  std::uint64_t data_offset = 0, size = 0;
};

class ZipReader {
 public:
  ZipReader(const std::string& bytes, const std::string& path) : bytes_(bytes), path_(path) {}

  // The pickle record (".../data.pkl"), after checking every entry of the central directory.
  Entry check_entries() {
    const std::size_t n = bytes_.size();
    std::size_t eocd = std::string::npos;
    for (std::size_t back = 22; back <= n && back <= 22 + 65535; ++back)
      if (little_endian(bytes_, n - back, 4) == 0x06054b50) {
        eocd = n - back;
        break;
      }
    if (eocd == std::string::npos) fail("not a zip archive (no end of central directory)");
    const std::uint64_t entries = little_endian(bytes_, eocd + 10, 2), cd_size = little_endian(bytes_, eocd + 12, 4),
                        cd_offset = little_endian(bytes_, eocd + 16, 4);
    if (cd_offset == 0xFFFFFFFFu || entries == 0xFFFFu) fail("a zip64 archive (over 4 GB): not read");
    if (cd_offset + cd_size > eocd) fail("its central directory lies outside the file");
    Entry pickle;
    std::size_t at = cd_offset;
    for (std::uint64_t e = 0; e < entries; ++e) {
      const Entry entry = check_entry(at, cd_offset + cd_size);
      if (entry.name.size() >= 8 && entry.name.compare(entry.name.size() - 8, 8, "data.pkl") == 0) pickle = entry;
    }
    if (pickle.name.empty()) fail("no data.pkl record");
    return pickle;
  }

 private:
  // One central-directory entry at `at` (advanced past it): stored, inside the file.
  Entry check_entry(std::size_t& at, std::uint64_t cd_end) {
    if (at + 46 > cd_end || little_endian(bytes_, at, 4) != 0x02014b50) fail("a damaged central directory");
    const std::uint64_t method = little_endian(bytes_, at + 10, 2), packed = little_endian(bytes_, at + 20, 4),
                        size = little_endian(bytes_, at + 24, 4), name_length = little_endian(bytes_, at + 28, 2),
                        extra = little_endian(bytes_, at + 30, 2), comment = little_endian(bytes_, at + 32, 2),
                        local = little_endian(bytes_, at + 42, 4);
    if (at + 46 + name_length > cd_end) fail("a damaged central directory");
    Entry entry;
    entry.name = bytes_.substr(at + 46, name_length);
    at += 46 + name_length + extra + comment;
    if (method != 0 || packed != size)
      fail("record '" + entry.name + "' is compressed (torch.save stores records uncompressed)");
    if (size == 0xFFFFFFFFu || local == 0xFFFFFFFFu) fail("a zip64 record (over 4 GB): not read");
    if (local + 30 > bytes_.size() || little_endian(bytes_, local, 4) != 0x04034b50)
      fail("record '" + entry.name + "' has no local header inside the file");
    entry.data_offset = local + 30 + little_endian(bytes_, local + 26, 2) + little_endian(bytes_, local + 28, 2);
    entry.size = size;
    if (entry.data_offset + size > bytes_.size())
      fail("record '" + entry.name + "' declares " + std::to_string(size) + " bytes, more than the file holds");
    return entry;
  }

  [[noreturn]] void fail(const std::string& why) const {
    throw IoError("'" + path_ + "': not a model file fedglioma can read: " + why);
  }

  const std::string& bytes_;
  const std::string& path_;
};

// How an opcode's argument is laid out.
enum class Arg { kNone, kFixed, kLength, kLine, kTwoLines };
struct Opcode {
  Arg arg = Arg::kNone;
  int width = 0;  // kFixed: bytes; kLength: bytes of the length prefix
  bool known = false;
};

const Opcode* opcode_table() {
  static Opcode table[256];
  static const bool filled = [] {
    auto set = [](const char* codes, Arg arg, int width) {
      for (const char* c = codes; *c; ++c) table[static_cast<unsigned char>(*c)] = {arg, width, true};
    };
    set("(.012NRbd}el]ost)uaQ\x88\x89\x85\x86\x87\x81\x8f\x90\x91\x92\x93\x94", Arg::kNone, 0);
    set("Khq\x80\x82", Arg::kFixed, 1);
    set("M\x83", Arg::kFixed, 2);
    set("Jjr\x84", Arg::kFixed, 4);
    set("G\x95", Arg::kFixed, 8);
    set("U\x8c" "C\x8a", Arg::kLength, 1);
    set("TXB\x8b", Arg::kLength, 4);
    set("\x8d\x8e\x96", Arg::kLength, 8);
    set("ILSVFPgp", Arg::kLine, 0);
    set("ci", Arg::kTwoLines, 0);
    return true;
  }();
  (void)filled;
  return table;
}

void check_pickle(const std::string& bytes, std::uint64_t begin, std::uint64_t end, const std::string& path) {
  auto fail = [&](const std::string& why, std::uint64_t at) {
    throw IoError("'" + path + "': not a model file fedglioma can read: its pickle " + why + " at byte " +
                  std::to_string(at - begin));
  };
  const Opcode* table = opcode_table();
  std::uint64_t at = begin, memo = 0;
  if (end - begin < 3 || static_cast<unsigned char>(bytes[at]) != 0x80 || static_cast<unsigned char>(bytes[at + 1]) < 2 ||
      static_cast<unsigned char>(bytes[at + 1]) > 4)
    fail("is not of protocol 2 to 4", at);
  while (at < end) {
    const unsigned char code = static_cast<unsigned char>(bytes[at]);
    const Opcode& op = table[code];
    if (!op.known) fail("has an unknown opcode " + std::to_string(code), at);
    ++at;
    if (code == '.') return;  // STOP
    std::uint64_t skip = 0;
    if (op.arg == Arg::kFixed || op.arg == Arg::kLength) {
      if (at + static_cast<std::uint64_t>(op.width) > end) fail("is cut short", at);
      const std::uint64_t value = little_endian(bytes, at, op.width);
      at += static_cast<std::uint64_t>(op.width);
      if (op.arg == Arg::kLength) skip = value;
      if (code == 'q' || code == 'r') {  // BINPUT, LONG_BINPUT: memo ids are handed out in order
        if (value > memo) fail("puts memo index " + std::to_string(value) + " after " + std::to_string(memo), at);
        memo += value == memo;
      }
      if ((code == 'h' || code == 'j') && value >= memo) fail("gets memo index " + std::to_string(value) + " never put", at);
    } else if (op.arg == Arg::kLine || op.arg == Arg::kTwoLines) {
      for (int lines = op.arg == Arg::kLine ? 1 : 2; lines > 0; --lines) {
        const auto newline = bytes.find('\n', at);
        if (newline == std::string::npos || newline >= end) fail("has an unterminated line", at);
        at = newline + 1;
      }
    }
    if (code == 0x94) ++memo;  // MEMOIZE
    if (skip > end - at) fail("declares " + std::to_string(skip) + " bytes beyond its end", at);
    at += skip;
  }
  fail("does not end with STOP", at);
}

}  // namespace

void check_model_archive(const std::string& bytes, const std::string& path) {
  const Entry pickle = ZipReader(bytes, path).check_entries();
  check_pickle(bytes, pickle.data_offset, pickle.data_offset + pickle.size, path);
}

}  // namespace fedglioma::sim
