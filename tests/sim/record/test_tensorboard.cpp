#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <iterator>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/crc32c.h"
#include "core/error.h"
#include "sim/record/tensorboard.h"
#include "sim/record/tensorboard_events.h"
#include "tests/support/fixtures.h"

using namespace fedglioma;
using namespace fedglioma::sim;
namespace fs = std::filesystem;

namespace {

// A reader written from the formats' descriptions alone (TFRecord framing, protobuf's wire
// format, event.proto / summary.proto field numbers), sharing no code with the writer.

std::string file_bytes(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

std::uint64_t little_endian(const std::string& bytes, std::size_t at, int n) {
  std::uint64_t v = 0;
  for (int i = n - 1; i >= 0; --i) v = (v << 8) | static_cast<unsigned char>(bytes.at(at + i));
  return v;
}

// Each record's data, both masked CRCs checked.
std::vector<std::string> tfrecords(const std::string& file) {
  std::vector<std::string> out;
  for (std::size_t at = 0; at < file.size();) {
    REQUIRE(file.size() - at >= 12);
    const std::uint64_t length = little_endian(file, at, 8);
    REQUIRE(little_endian(file, at + 8, 4) == masked_crc32c(file.data() + at, 8));
    REQUIRE(file.size() - at - 12 >= length + 4);
    std::string data = file.substr(at + 12, length);
    REQUIRE(little_endian(file, at + 12 + length, 4) == masked_crc32c(data.data(), data.size()));
    out.push_back(std::move(data));
    at += 16 + length;
  }
  return out;
}

struct Field {
  std::uint32_t number = 0, type = 0;
  std::uint64_t integer = 0;  // varint, fixed64 and fixed32 fields
  std::string bytes;          // length-delimited fields
};

std::uint64_t varint(const std::string& b, std::size_t& at) {
  std::uint64_t v = 0;
  for (int shift = 0;; shift += 7) {
    REQUIRE(shift < 64);
    const auto byte = static_cast<unsigned char>(b.at(at++));
    v |= static_cast<std::uint64_t>(byte & 0x7F) << shift;
    if (!(byte & 0x80)) return v;
  }
}

std::vector<Field> fields(const std::string& message) {
  std::vector<Field> out;
  for (std::size_t at = 0; at < message.size();) {
    const std::uint64_t key = varint(message, at);
    Field f;
    f.number = static_cast<std::uint32_t>(key >> 3);
    f.type = static_cast<std::uint32_t>(key & 7);
    if (f.type == 0) f.integer = varint(message, at);
    if (f.type == 1 || f.type == 5) {
      const int n = f.type == 1 ? 8 : 4;
      f.integer = little_endian(message, at, n);
      at += n;
    }
    if (f.type == 2) {
      const std::uint64_t n = varint(message, at);
      REQUIRE(message.size() - at >= n);
      f.bytes = message.substr(at, n);
      at += n;
    }
    REQUIRE((f.type == 0 || f.type == 1 || f.type == 2 || f.type == 5));
    out.push_back(std::move(f));
  }
  return out;
}

struct Event {
  double wall_time = 0.0;
  std::int64_t step = 0;
  std::optional<std::string> file_version;
  std::string tag;
  std::optional<float> value;
};

float float_of(std::uint64_t fixed32) {
  const auto bits = static_cast<std::uint32_t>(fixed32);
  float value;
  std::memcpy(&value, &bits, 4);
  return value;
}

// Summary.Value: tag = 1, simple_value = 2.
void decode_value(const std::string& value, Event& e) {
  for (const Field& v : fields(value)) {
    if (v.number == 1 && v.type == 2) {
      e.tag = v.bytes;
    } else if (v.number == 2 && v.type == 5) {
      e.value = float_of(v.integer);
    } else {
      FAIL("unexpected Summary.Value field " << v.number);
    }
  }
}

// Event: wall_time = 1, step = 2, file_version = 3, summary = 5 (Summary: value = 1).
Event decode_event(const std::string& data) {
  Event e;
  for (const Field& f : fields(data)) {
    if (f.number == 1 && f.type == 1) {
      std::memcpy(&e.wall_time, &f.integer, 8);
    } else if (f.number == 2 && f.type == 0) {
      e.step = static_cast<std::int64_t>(f.integer);
    } else if (f.number == 3 && f.type == 2) {
      e.file_version = f.bytes;
    } else if (f.number == 5 && f.type == 2) {
      const auto values = fields(f.bytes);
      REQUIRE(values.size() == 1);  // one value per event
      REQUIRE((values[0].number == 1 && values[0].type == 2));
      decode_value(values[0].bytes, e);
    } else {
      FAIL("unexpected Event field " << f.number);
    }
  }
  return e;
}

std::vector<Event> read_events(const fs::path& file) {
  std::vector<Event> events;
  for (const std::string& record : tfrecords(file_bytes(file))) events.push_back(decode_event(record));
  REQUIRE_FALSE(events.empty());
  REQUIRE(events[0].file_version == std::optional<std::string>("brain.Event:2"));
  return events;
}

std::vector<fs::path> event_files(const fs::path& dir) {
  std::vector<fs::path> out;
  for (const auto& entry : fs::directory_iterator(dir))
    if (entry.path().filename().string().rfind("events.out.tfevents.", 0) == 0) out.push_back(entry.path());
  return out;
}

ClientRecord client(const std::string& id, std::optional<double> train_loss, const std::string& status = "ok") {
  ClientRecord c;
  c.id = id;
  c.samples = 8;
  c.train_loss = train_loss;
  c.status = status;
  return c;
}

EvalSummary summary_of(std::optional<double> dice_mean, std::optional<double> dice_median = std::nullopt,
                       std::array<std::optional<double>, 4> auc = {}) {
  EvalSummary s;
  s.n = 4;
  s.dice_mean = dice_mean;
  s.dice_median = dice_median;
  s.auc = auc;
  return s;
}

RoundRecord round_of(int round, bool evaluated) {
  RoundRecord r;
  r.round = round;
  r.seconds = 1.5 * round;
  r.clients = {client("site-a", 1.0 / round), client("site-b", 2.0 / round)};
  if (evaluated) {
    RoundEval eval;
    eval.external = summary_of(0.1 * round, 0.1 * round, {0.6, std::nullopt, 0.7, 0.8});
    eval.val = summary_of(0.2 * round);
    eval.sites = {{"site-a", summary_of(0.3)}, {"site-b", summary_of(0.4)}};
    r.eval = eval;
  }
  return r;
}

}  // namespace

TEST_CASE("EventFileWriter writes TFRecord events that an independent reader reads back", "[sim][tensorboard]") {
  // Prepare
  const fs::path dir = fedglioma::testing::temp_dir("tb-writer") / "nested" / "tensorboard";
  fs::path path;

  // Execute
  {
    EventFileWriter writer(dir, 1700000000.25);
    path = writer.path();
    writer.add_scalar("val/dice_mean", 1, 0.5, 1700000001.5);
    writer.add_scalar("train/loss/site-a", 2, 0.0, 1700000002.0);
    writer.add_scalar("skipped/nan", 3, std::nan(""), 1700000003.0);
    writer.add_scalar("skipped/infinite", 3, HUGE_VAL, 1700000003.0);
    writer.add_scalar("skipped/beyond_float", 3, 1e300, 1700000003.0);
    writer.add_scalar("steps/large", std::int64_t{1} << 40, -2.25, 1700000004.0);
    writer.add_scalar("steps/negative", -7, 1.0 / 3.0, 1700000005.0);
    writer.flush();
    // Flushed: readable while the writer is still open, as TensorBoard reads a running run.
    CHECK(read_events(path).size() == 5);
  }

  // Assert
  CHECK(path == dir / "events.out.tfevents.1700000000.fedglioma");
  const auto events = read_events(path);
  REQUIRE(events.size() == 5);
  CHECK(events[0].wall_time == 1700000000.25);
  CHECK(events[0].step == 0);
  CHECK_FALSE(events[0].value);
  const std::vector<std::pair<std::string, std::int64_t>> expected = {
      {"val/dice_mean", 1}, {"train/loss/site-a", 2}, {"steps/large", std::int64_t{1} << 40}, {"steps/negative", -7}};
  const std::vector<float> values = {0.5f, 0.0f, -2.25f, static_cast<float>(1.0 / 3.0)};
  const std::vector<double> times = {1700000001.5, 1700000002.0, 1700000004.0, 1700000005.0};
  for (std::size_t i = 0; i < expected.size(); ++i) {
    const Event& e = events[i + 1];
    CHECK(e.tag == expected[i].first);
    CHECK(e.step == expected[i].second);
    REQUIRE(e.value);  // simple_value 0.0 too: a oneof member is written whatever its value
    CHECK(*e.value == values[i]);
    CHECK(e.wall_time == times[i]);
    CHECK_FALSE(e.file_version);
  }
}

TEST_CASE("EventFileWriter's records are byte for byte those of another TensorBoard writer", "[sim][tensorboard]") {
  // The file that tensorboard_logger's tests expect for wall time 256.5 and the scalars
  // v/1 = 1.5 at step 1 and v/22 = 16.0 at step 2 (TeamHG-Memex/tensorboard_logger,
  // tests/test_tensorboard_logger.py, test_serialization); it writes through TensorFlow's protos.
  const std::string expected = std::string(
      "\x18\x00\x00\x00\x00\x00\x00\x00\xa3\x7fK\"\t\x00\x00\x00\x00\x00\x08p@\x1a\rbrain.Event:2\xbc\x98!+"
      "\x19\x00\x00\x00\x00\x00\x00\x00\x8b\xf1\x08(\t\x00\x00\x00\x00\x00\x08p@\x10\x01*\x0c\n\n\n\x03v/1"
      "\x15\x00\x00\xc0?,\xec\xc0\x87"
      "\x1a\x00\x00\x00\x00\x00\x00\x00\x12\x9b\xd8-\t\x00\x00\x00\x00\x00\x08p@\x10\x02*\r\n\x0b\n\x04v/22"
      "\x15\x00\x00\x80"
      "A\x8f\xa3\xb6\x88",
      123);
  const fs::path dir = fedglioma::testing::temp_dir("tb-bytes");
  fs::path path;
  {
    EventFileWriter writer(dir, 256.5);
    writer.add_scalar("v/1", 1, 1.5, 256.5);
    writer.add_scalar("v/22", 2, 16.0, 256.5);
    path = writer.path();
  }
  CHECK(path.filename() == "events.out.tfevents.0000000256.fedglioma");
  CHECK(file_bytes(path) == expected);
}

TEST_CASE("a TensorBoard folder that cannot be created is an IoError naming it", "[sim][tensorboard]") {
  const fs::path dir = fedglioma::testing::temp_dir("tb-blocked");
  std::ofstream(dir / "a-file") << "not a folder";
  const fs::path blocked = dir / "a-file" / "tensorboard";
  CHECK_THROWS_AS(EventFileWriter(blocked), IoError);
  CHECK_THROWS_WITH(EventFileWriter(blocked),
                    Catch::Contains("'" + blocked.string() + "'") && Catch::Contains("runtime.tensorboard"));
  auto reporter = tensorboard_reporter(blocked, {}, nullptr);
  CHECK_THROWS_AS(reporter->start(), IoError);
}

TEST_CASE("a resumed run's TensorBoard folder holds one events file with every step once", "[sim][tensorboard]") {
  // Prepare: what an earlier, killed process left (its own events file, with round 1), and a
  // file of the user's that must survive.
  const fs::path dir = fedglioma::testing::temp_dir("tb-resume") / "tensorboard";
  {
    EventFileWriter earlier(dir, 1000000000.0);
    earlier.add_scalar("time/round_seconds", 1, 1.5, 1000000001.0);
  }
  std::ofstream(dir / "notes.txt") << "mine";
  REQUIRE(event_files(dir).size() == 1);
  std::vector<std::size_t> histories;
  auto selected = [&](const std::vector<RoundRecord>& history) -> std::optional<int> {
    histories.push_back(history.size());
    if (history.size() < 3) return std::nullopt;
    return 2;
  };

  // Execute
  auto reporter = tensorboard_reporter(dir, {round_of(1, false), round_of(2, true)}, selected);
  reporter->start();
  const RoundRecord third = round_of(3, true);
  reporter->round(third);
  const auto files = event_files(dir);  // before finish(): each round is flushed as it ends
  reporter->finish({round_of(1, false), round_of(2, true), third}, RunTiming{});

  // Assert
  REQUIRE(files.size() == 1);
  CHECK(files[0].filename().string().find("1000000000") == std::string::npos);
  CHECK(fs::exists(dir / "notes.txt"));
  CHECK(histories == std::vector<std::size_t>{2, 3});  // evaluated rounds only, resumed ones included
  std::map<std::pair<std::string, std::int64_t>, int> seen;
  std::map<std::int64_t, float> selection;
  for (const Event& e : read_events(files[0])) {
    if (e.file_version) continue;
    ++seen[{e.tag, e.step}];
    if (e.tag == kSelectedRoundTag) selection[e.step] = *e.value;
  }
  for (const auto& [key, count] : seen) CHECK(count == 1);
  for (std::int64_t step = 1; step <= 3; ++step) CHECK(seen.count({"time/round_seconds", step}) == 1);
  CHECK(seen.count({"external/dice_mean", 1}) == 0);
  CHECK(seen.count({"external/dice_mean", 2}) == 1);
  CHECK(selection == std::map<std::int64_t, float>{{3, 2.0f}});
  std::size_t expected = 0;
  for (int r = 1; r <= 3; ++r) expected += tensorboard_scalars(round_of(r, r > 1)).size();
  CHECK(seen.size() == expected + 1);
}

TEST_CASE("tensorboard_scalars gives the documented tags in order and leaves undefined values out",
          "[sim][tensorboard]") {
  // Prepare
  RoundRecord r;
  r.round = 4;
  r.seconds = 12.5;
  r.simulated_seconds = 30.0;
  r.clients = {client("site-a", 0.5), client("site-b", std::nullopt, "failed"), client("site-c", 1.0)};
  RoundEval eval;
  eval.external = summary_of(0.6, 0.65, {0.7, std::nullopt, 0.8, std::nullopt});
  eval.val = summary_of(0.5);
  eval.test = summary_of(0.4, 0.45, {1.0, 0.9, 0.5, 0.25});
  eval.sites = {{"site-a", summary_of(0.4, 0.1, {0.6, std::nullopt, std::nullopt, std::nullopt})},
                {"site-b", summary_of(0.8)}};
  eval.personal = {{"site-a", {summary_of(0.55), summary_of(std::nullopt)}},
                   {"site-b", {summary_of(0.75), summary_of(0.7)}}};
  r.eval = eval;

  // Execute
  const auto scalars = tensorboard_scalars(r);

  // Assert
  const std::vector<std::pair<std::string, double>> expected = {
      {"train/loss_mean", 0.75},
      {"train/loss/site-a", 0.5},
      {"train/loss/site-c", 1.0},
      {"time/round_seconds", 12.5},
      {"time/simulated_seconds", 30.0},
      {"external/dice_mean", 0.6},
      {"external/dice_median", 0.65},
      {"external/auc/idh", 0.7},
      {"external/auc/mgmt", 0.8},
      {"val/dice_mean", 0.5},
      {"test/dice_mean", 0.4},
      {"test/dice_median", 0.45},
      {"test/auc/idh", 1.0},
      {"test/auc/codeletion_1p19q", 0.9},
      {"test/auc/mgmt", 0.5},
      {"test/auc/grade", 0.25},
      {"sites/site-a/dice_mean", 0.4},
      {"sites/site-a/auc/idh", 0.6},
      {"sites/site-b/dice_mean", 0.8},
      {"personal/site-a/val/dice_mean", 0.55},
      {"personal/site-b/val/dice_mean", 0.75},
      {"personal/site-b/external/dice_mean", 0.7},
      {"fairness/sites/dice_worst", 0.4},
      {"fairness/sites/dice_sd", std::sqrt(0.08)},
      {"fairness/personal/dice_worst", 0.55},
      {"fairness/personal/dice_sd", std::sqrt(0.02)},
  };
  REQUIRE(scalars.size() == expected.size());
  for (std::size_t i = 0; i < expected.size(); ++i) {
    CHECK(scalars[i].first == expected[i].first);
    CHECK(scalars[i].second == Approx(expected[i].second).epsilon(1e-12));
  }

  // A round without evaluation or any train loss, and a diverged evaluation, give only the time.
  RoundRecord bare;
  bare.round = 5;
  bare.seconds = 2.0;
  bare.clients = {client("site-a", std::nullopt, "failed")};
  CHECK(tensorboard_scalars(bare) == std::vector<std::pair<std::string, double>>{{"time/round_seconds", 2.0}});
  RoundEval diverged;
  diverged.external.diverged = diverged.val.diverged = "a logit was NaN";
  bare.eval = diverged;
  CHECK(tensorboard_scalars(bare) == std::vector<std::pair<std::string, double>>{{"time/round_seconds", 2.0}});
}
