#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

namespace fedglioma {

/// Named float buffers, integers and texts: what a checkpoint holds. Saved as one file, written
/// atomically, with a length and a checksum, so a damaged file is detected rather than loaded.
struct StateBundle {
  std::map<std::string, std::vector<float>> buffers;
  std::map<std::string, std::int64_t> integers;
  std::map<std::string, std::string> texts;
};

/// A part of a run's state that a checkpoint carries besides the model, the strategy and the
/// clients' state (the asynchronous server between events, the privacy accounts): it adds itself
/// to a bundle and restores itself from one (IoError when the bundle holds none or a damaged one).
class BundlePart {
 public:
  virtual ~BundlePart() = default;
  virtual void save(StateBundle& out) const = 0;
  virtual void load(const StateBundle& in) = 0;
};

/// Writes `bundle` to `path` atomically. Throws IoError.
void save_bundle(const StateBundle& bundle, const std::filesystem::path& path);

/// Reads a bundle written by save_bundle. Throws IoError naming the file when it is missing,
/// truncated, corrupted or not a bundle.
StateBundle load_bundle(const std::filesystem::path& path);

}  // namespace fedglioma
