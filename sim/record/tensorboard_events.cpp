#include "sim/record/tensorboard_events.h"

#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstring>
#include <limits>
#include <system_error>

#include "core/crc32c.h"
#include "core/error.h"

namespace fedglioma::sim {
namespace {

namespace fs = std::filesystem;

constexpr const char* kRemedy = "; check runtime.tensorboard";
constexpr const char* kFileVersion = "brain.Event:2";

// Protocol buffer wire types (protobuf's encoding guide, "Message Structure").
enum WireType : std::uint32_t { kVarint = 0, kFixed64 = 1, kLengthDelimited = 2, kFixed32 = 5 };

void put_varint(std::string& out, std::uint64_t v) {
  while (v >= 0x80) {
    out += static_cast<char>((v & 0x7F) | 0x80);
    v >>= 7;
  }
  out += static_cast<char>(v);
}

void put_key(std::string& out, std::uint32_t field, WireType type) { put_varint(out, (field << 3) | type); }

// Fixed-width fields are little-endian whatever the machine's byte order.
void put_little_endian(std::string& out, std::uint64_t v, int bytes) {
  for (int i = 0; i < bytes; ++i) out += static_cast<char>((v >> (8 * i)) & 0xFF);
}

void put_double(std::string& out, std::uint32_t field, double v) {
  std::uint64_t bits;
  std::memcpy(&bits, &v, sizeof bits);
  put_key(out, field, kFixed64);
  put_little_endian(out, bits, 8);
}

void put_float(std::string& out, std::uint32_t field, float v) {
  std::uint32_t bits;
  std::memcpy(&bits, &v, sizeof bits);
  put_key(out, field, kFixed32);
  put_little_endian(out, bits, 4);
}

void put_bytes(std::string& out, std::uint32_t field, const std::string& bytes) {
  put_key(out, field, kLengthDelimited);
  put_varint(out, bytes.size());
  out += bytes;
}

// Field numbers of event.proto's Event and summary.proto's Summary and Summary.Value.
namespace event {
constexpr std::uint32_t kWallTime = 1, kStep = 2, kFileVersion = 3, kSummary = 5;
}
namespace summary {
constexpr std::uint32_t kValue = 1;
}
namespace value {
constexpr std::uint32_t kTag = 1, kSimpleValue = 2;
}

// An Event holding either the file version or a one-value summary. Proto3 leaves a default
// scalar out (step 0), but a oneof member is written whatever its value: simple_value 0.0 and
// the summary must be present for a reader to see which member is set.
std::string event_bytes(double wall_time, std::int64_t step, const std::string* file_version, const std::string* tag,
                        float simple_value) {
  std::string out;
  put_double(out, event::kWallTime, wall_time);
  if (step != 0) {
    put_key(out, event::kStep, kVarint);
    put_varint(out, static_cast<std::uint64_t>(step));  // int64: a negative step takes 10 bytes
  }
  if (file_version) put_bytes(out, event::kFileVersion, *file_version);
  if (tag) {
    std::string v;
    put_bytes(v, value::kTag, *tag);
    put_float(v, value::kSimpleValue, simple_value);
    std::string s;
    put_bytes(s, summary::kValue, v);
    put_bytes(out, event::kSummary, s);
  }
  return out;
}

std::string event_file_name(double wall_time) {
  const long long whole =
      std::isfinite(wall_time) && wall_time > 0 && wall_time < 1e17 ? static_cast<long long>(wall_time) : 0;
  char seconds[32];
  std::snprintf(seconds, sizeof seconds, "%010lld", whole);
  return std::string(kEventFilePrefix) + seconds + ".fedglioma";
}

}  // namespace

double unix_seconds_now() {
  const auto since_epoch = std::chrono::system_clock::now().time_since_epoch();
  return std::chrono::duration<double>(since_epoch).count();
}

EventFileWriter::EventFileWriter(const fs::path& dir, double wall_time) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec || !fs::is_directory(dir))
    throw IoError("cannot create the TensorBoard folder '" + dir.string() +
                  "': " + (ec ? ec.message() : std::string("not a folder")) + kRemedy);
  path_ = dir / event_file_name(wall_time);
  file_.reset(std::fopen(path_.c_str(), "wb"));
  if (!file_) fail("cannot open the TensorBoard event file", errno);
  const std::string version = kFileVersion;
  write_record(event_bytes(wall_time, 0, &version, nullptr, 0.0f));
  flush();
}

EventFileWriter::~EventFileWriter() = default;

void EventFileWriter::add_scalar(const std::string& tag, std::int64_t step, double value, double wall_time) {
  // Checked before the conversion, which is undefined for a double outside float's range.
  if (!std::isfinite(value) || std::fabs(value) > std::numeric_limits<float>::max()) return;
  write_record(event_bytes(wall_time, step, nullptr, &tag, static_cast<float>(value)));
}

void EventFileWriter::flush() {
  if (std::fflush(file_.get()) != 0) fail("cannot write TensorBoard events to", errno);
}

// TFRecord framing: uint64 length, masked CRC-32C of those 8 bytes, the data, masked CRC-32C of
// the data; integers little-endian.
void EventFileWriter::write_record(const std::string& data) {
  std::string record;
  record.reserve(data.size() + 16);
  put_little_endian(record, data.size(), 8);
  put_little_endian(record, masked_crc32c(record.data(), 8), 4);
  record += data;
  put_little_endian(record, masked_crc32c(data.data(), data.size()), 4);
  if (std::fwrite(record.data(), 1, record.size(), file_.get()) != record.size())
    fail("cannot write TensorBoard events to", errno);
}

void EventFileWriter::fail(const char* what, int error) const {
  const std::string reason = error != 0 ? std::strerror(error) : "the write failed";
  throw IoError(std::string(what) + " '" + path_.string() + "': " + reason + kRemedy);
}

}  // namespace fedglioma::sim
