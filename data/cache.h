#pragma once

#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "data/dataset.h"
#include "data/manifest.h"
#include "data/preprocess.h"

namespace fedglioma::data {

/// The disk cache of preprocessed cases. An entry is keyed by the case's source files (path,
/// size, modification time) and every preprocessing parameter, so an edited file or a changed
/// option misses. Entries carry their length and a 64-bit checksum of their contents; a truncated or
/// corrupted entry is detected, deleted and rebuilt, never loaded. Writes are atomic.
class SampleCache {
 public:
  /// A cache in `dir` (created on first store); an empty path disables caching.
  explicit SampleCache(std::filesystem::path dir);

  /// The cached sample for `record`, or nullopt on a miss (or a damaged entry, then removed).
  std::optional<Sample> load(const Case& record, const PreprocessOptions& options) const;

  /// Stores `sample` for `record`. Throws IoError when the folder cannot be written.
  void store(const Case& record, const PreprocessOptions& options, const Sample& sample) const;

  /// The entry's file for `record` (whether or not it exists). Throws DataError naming the
  /// file when a source file is missing.
  std::filesystem::path entry_path(const Case& record, const PreprocessOptions& options) const;

  bool enabled() const { return !dir_.empty(); }

  /// Deletes every entry in the cache folder that is not the entry of one of `records` under
  /// `options` (entries of older format versions, of edited source files, of other parameters or
  /// other manifests). Returns the number of entries and bytes removed.
  std::pair<std::size_t, std::uintmax_t> prune(const std::vector<const Case*>& records,
                                               const PreprocessOptions& options) const;

 private:
  std::filesystem::path dir_;
};

/// Loads `records` as the network sees them, from the cache when an entry is valid, else by
/// preprocess_case (then stored), on up to `threads` threads, in the given order. `progress`,
/// when set, is called after each case with (done, total). Errors name the first failing case in
/// the given order.
std::vector<Sample> load_samples(const std::vector<const Case*>& records, const PreprocessOptions& options,
                                 const SampleCache& cache, int threads,
                                 const std::function<void(std::size_t, std::size_t)>& progress = {});

}  // namespace fedglioma::data
