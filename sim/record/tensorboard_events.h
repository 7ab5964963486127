#pragma once

#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <string>

namespace fedglioma::sim {

/// The name every TensorBoard event file starts with (TensorBoard reads the files of a folder
/// whose names contain "tfevents").
inline constexpr const char* kEventFilePrefix = "events.out.tfevents.";

/// Seconds since the Unix epoch now, as TensorBoard's Event.wall_time.
double unix_seconds_now();

/// A TensorBoard event file of scalars, written without a protobuf library: TFRecord records
/// (tensorflow/core/lib/io/record_writer.cc; the framing is specified in
/// tensorflow/python/lib/io/python_io.py) each holding one serialised `Event`
/// (tensorflow/core/util/event.proto, with Summary and Summary.Value from
/// tensorflow/core/framework/summary.proto; TensorBoard's copies are under
/// tensorboard/compat/proto/). The first record names the format, "brain.Event:2"; then one
/// record per scalar. Records reach the OS at flush(), so TensorBoard can read a run as it goes.
///
/// The writer owns its file alone: a second writer started in the same folder within the same
/// second would replace it (the name holds the second only).
class EventFileWriter {
 public:
  /// Creates `dir` (and its parents) when missing and starts
  /// `dir`/events.out.tfevents.<10-digit unix seconds>.fedglioma, the seconds and the first
  /// record's time being `wall_time`. Throws IoError naming the folder or the file and what failed.
  explicit EventFileWriter(const std::filesystem::path& dir, double wall_time = unix_seconds_now());
  ~EventFileWriter();
  EventFileWriter(const EventFileWriter&) = delete;
  EventFileWriter& operator=(const EventFileWriter&) = delete;

  /// Appends `value` (stored as float32, TensorBoard's simple_value) as `tag` at `step`.
  /// A value that is not finite, or not finite as a float32, is left out: a NaN or infinite
  /// point would hide a chart's scale. Throws IoError when the file cannot be written.
  void add_scalar(const std::string& tag, std::int64_t step, double value, double wall_time);

  /// Hands what was written to the OS (not to the disk: a crash of the machine may lose it,
  /// which rounds.jsonl, not this file, must survive). Throws IoError.
  void flush();

  /// The event file being written.
  const std::filesystem::path& path() const { return path_; }

 private:
  void write_record(const std::string& data);
  [[noreturn]] void fail(const char* what, int error) const;

  struct Close {
    void operator()(std::FILE* f) const { std::fclose(f); }
  };
  std::filesystem::path path_;
  std::unique_ptr<std::FILE, Close> file_;
};

}  // namespace fedglioma::sim
