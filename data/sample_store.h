#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <exception>
#include <functional>
#include <list>
#include <map>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "data/cache.h"

namespace fedglioma::data {

/// The preprocessed cases of a run, under a RAM budget.
///
/// Every case is loaded once at construction (preprocessed and stored in the disk cache on a
/// miss), which also checks every case before training starts. When the voxels of all cases fit
/// in `ram_budget_bytes` they stay in memory (resident mode). Otherwise only the metadata stays
/// (id, site, split, labels, geometry) and voxels are read back from the disk cache on demand
/// (streaming mode), keeping at most the budget's worth of recently used cases; the disk cache
/// must then be enabled. `fetch` is safe to call from any thread.
///
/// `needed` (one flag per record; empty: all) limits loading to the cases this process uses (a
/// rank of a multi-process run: its clients' and its share of the evaluation): the others keep
/// their record's metadata (id, site, split, labels; no geometry, voxels or fingerprint) and
/// fetching one is an internal error.
class SampleStore {
 public:
  SampleStore(std::vector<const Case*> records, PreprocessOptions options, SampleCache cache,
              std::uint64_t ram_budget_bytes, int threads,
              const std::function<void(std::size_t, std::size_t)>& progress = {}, std::vector<bool> needed = {});

  /// Every case, in manifest order. In streaming mode `image` and `mask` are empty; use fetch.
  const std::vector<Sample>& samples() const { return samples_; }

  /// The case with its voxels. `sample` must be one of samples(). Resident: the sample itself.
  /// Streaming: from memory when recently used, else read from the disk cache (re-preprocessed
  /// when the entry has gone or is damaged); concurrent fetches of one case read it once.
  std::shared_ptr<const Sample> fetch(const Sample& sample) const;

  bool streaming() const { return streaming_; }

  /// Bytes of voxels one case holds in memory.
  static std::uint64_t sample_bytes(const Geometry& grid);

  /// Disk reads made by fetch since construction (0 in resident mode).
  std::uint64_t disk_reads() const;

  /// Whether this store loaded `samples()[index]` (see `needed`).
  bool loaded(std::size_t index) const { return needed_.empty() || needed_[index]; }

 private:
  std::shared_ptr<const Sample> load_voxels(std::size_t index) const;

  std::vector<const Case*> records_;
  std::vector<bool> needed_;
  PreprocessOptions options_;
  SampleCache cache_;
  std::vector<Sample> samples_;
  std::uint64_t budget_ = 0;
  bool streaming_ = false;

  // Streaming state: the cases in memory, most recently used first, and the ones being read.
  mutable std::mutex mutex_;
  mutable std::condition_variable loaded_;
  mutable std::list<std::size_t> recent_;
  struct Held {
    std::shared_ptr<const Sample> sample;
    std::list<std::size_t>::iterator position;
  };
  mutable std::map<std::size_t, Held> held_;
  mutable std::map<std::size_t, bool> loading_;
  mutable std::uint64_t held_bytes_ = 0, disk_reads_ = 0;
};

/// Reads the cases a worker will train on ahead of it, on a background thread, at most
/// `lookahead` cases ahead, so that disk reads overlap training. In resident mode it hands the
/// cases out directly, without a thread.
class Prefetcher {
 public:
  Prefetcher(const SampleStore& store, std::vector<const Sample*> sequence, std::size_t lookahead);
  ~Prefetcher();
  Prefetcher(const Prefetcher&) = delete;
  Prefetcher& operator=(const Prefetcher&) = delete;

  /// The next case of the sequence (waits for it when it is still being read); rethrows a read
  /// error. Must not be called more often than the sequence is long.
  std::shared_ptr<const Sample> next();

  /// Seconds next() spent waiting for a case that was not read yet.
  double wait_seconds() const { return wait_seconds_; }

 private:
  void run();

  const SampleStore& store_;
  std::vector<const Sample*> sequence_;
  std::size_t lookahead_;
  std::size_t taken_ = 0;
  double wait_seconds_ = 0.0;
  std::mutex mutex_;
  std::condition_variable changed_;
  std::deque<std::shared_ptr<const Sample>> ready_;
  std::exception_ptr error_;
  bool stop_ = false;
  std::thread thread_;
};

}  // namespace fedglioma::data
