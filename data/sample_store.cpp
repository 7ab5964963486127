#include "data/sample_store.h"

#include <chrono>
#include <stdexcept>
#include <string>

#include "core/error.h"

namespace fedglioma::data {

std::uint64_t SampleStore::sample_bytes(const Geometry& grid) {
  // Four float modalities and a one-byte mask per voxel.
  return static_cast<std::uint64_t>(grid.voxel_count()) * (4 * sizeof(float) + 1);
}

SampleStore::SampleStore(std::vector<const Case*> records, PreprocessOptions options, SampleCache cache,
                         std::uint64_t ram_budget_bytes, int threads,
                         const std::function<void(std::size_t, std::size_t)>& progress, std::vector<bool> needed)
    : records_(std::move(records)), needed_(std::move(needed)), options_(std::move(options)), cache_(std::move(cache)),
      budget_(ram_budget_bytes) {
  if (!needed_.empty() && needed_.size() != records_.size())
    throw std::invalid_argument("SampleStore: one `needed` flag per record");
  std::vector<const Case*> wanted;  // the records loaded, in manifest order
  for (std::size_t i = 0; i < records_.size(); ++i)
    if (loaded(i)) wanted.push_back(records_[i]);
  Geometry grid;
  grid.size = options_.size;
  const std::uint64_t total = sample_bytes(grid) * wanted.size();
  streaming_ = total > budget_;
  if (streaming_ && !cache_.enabled())
    throw ConfigError("data.cache_ram_gb: the " + std::to_string(wanted.size()) + " cases need " +
                      std::to_string(total >> 20) + " MiB in memory, more than the budget of " +
                      std::to_string(budget_ >> 20) +
                      " MiB, and data.cache_dir is empty: streaming cases from disk needs the cache");
  std::vector<Sample> samples;
  if (!streaming_) {
    samples = load_samples(wanted, options_, cache_, threads, progress);
  } else {
    // Streaming: every case is preprocessed (or its cache entry checked) in chunks, and only its
    // metadata is kept.
    samples.reserve(wanted.size());
    const std::size_t chunk = 4 * static_cast<std::size_t>(std::max(1, threads));
    for (std::size_t begin = 0; begin < wanted.size(); begin += chunk) {
      const std::vector<const Case*> part(
          wanted.begin() + static_cast<std::ptrdiff_t>(begin),
          wanted.begin() + static_cast<std::ptrdiff_t>(std::min(wanted.size(), begin + chunk)));
      std::vector<Sample> loaded = load_samples(part, options_, cache_, threads, [&](std::size_t done, std::size_t) {
        if (progress) progress(begin + done, wanted.size());
      });
      for (Sample& s : loaded) {
        s.image = {};
        s.mask = {};
        samples.push_back(std::move(s));
      }
    }
  }
  // Every record in manifest order: the loaded ones, and the others' metadata.
  samples_.reserve(records_.size());
  for (std::size_t i = 0, k = 0; i < records_.size(); ++i) {
    if (loaded(i)) {
      samples_.push_back(std::move(samples[k++]));
      continue;
    }
    Sample s;
    s.id = records_[i]->id;
    s.patient = records_[i]->patient_id();
    s.site = records_[i]->site;
    s.split = records_[i]->split;
    s.labels = records_[i]->labels;
    s.has_mask = records_[i]->mask.has_value();
    s.has_regions = reads_regions(*records_[i], options_);
    samples_.push_back(std::move(s));
  }
}

std::shared_ptr<const Sample> SampleStore::load_voxels(std::size_t index) const {
  std::optional<Sample> sample = cache_.load(*records_[index], options_);
  if (!sample) {  // the entry went away or was damaged since the start of the run
    sample = preprocess_case(*records_[index], options_);
    cache_.store(*records_[index], options_, *sample);
  }
  // An edited source misses the cache (its key holds the files' sizes and times) and is
  // preprocessed again: what a resident run never rereads must not change under a streaming one.
  if (sample_fingerprint(*sample) != samples_[index].fingerprint)
    throw DataChangedError("case '" + samples_[index].id + "': its source files (" + records_[index]->images[0].string() +
                           ", ...) changed while the run was going (they no longer give what the run checked at its "
                           "start); the run stops so that no round trains on other data: restore the files and "
                           "`run --resume`, or start a new run");
  return std::make_shared<const Sample>(std::move(*sample));
}

std::shared_ptr<const Sample> SampleStore::fetch(const Sample& sample) const {
  const std::size_t index = static_cast<std::size_t>(&sample - samples_.data());
  if (index >= samples_.size()) throw std::invalid_argument("SampleStore::fetch: not one of this store's samples");
  if (!loaded(index))
    throw std::logic_error("SampleStore::fetch: case '" + sample.id + "' was not loaded by this process");
  if (!streaming_) return std::shared_ptr<const Sample>(std::shared_ptr<const Sample>(), &sample);

  std::unique_lock<std::mutex> lock(mutex_);
  for (;;) {
    if (auto it = held_.find(index); it != held_.end()) {
      recent_.splice(recent_.begin(), recent_, it->second.position);
      return it->second.sample;
    }
    if (!loading_.count(index)) break;
    loaded_.wait(lock);
  }
  loading_[index] = true;
  ++disk_reads_;
  lock.unlock();
  std::shared_ptr<const Sample> loaded;
  try {
    loaded = load_voxels(index);
  } catch (...) {
    lock.lock();
    loading_.erase(index);
    loaded_.notify_all();
    throw;
  }
  lock.lock();
  recent_.push_front(index);
  held_[index] = Held{loaded, recent_.begin()};
  held_bytes_ += sample_bytes(loaded->geometry);
  // The least recently used cases leave memory once the budget is exceeded (the new one stays).
  while (held_bytes_ > budget_ && recent_.size() > 1) {
    const std::size_t oldest = recent_.back();
    held_bytes_ -= sample_bytes(held_[oldest].sample->geometry);
    held_.erase(oldest);
    recent_.pop_back();
  }
  loading_.erase(index);
  loaded_.notify_all();
  return loaded;
}

std::uint64_t SampleStore::disk_reads() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return disk_reads_;
}

Prefetcher::Prefetcher(const SampleStore& store, std::vector<const Sample*> sequence, std::size_t lookahead)
    : store_(store), sequence_(std::move(sequence)), lookahead_(std::max<std::size_t>(1, lookahead)) {
  if (store_.streaming()) thread_ = std::thread(&Prefetcher::run, this);
}

Prefetcher::~Prefetcher() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stop_ = true;
  }
  changed_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void Prefetcher::run() {
  for (const Sample* sample : sequence_) {
    {
      std::unique_lock<std::mutex> lock(mutex_);
      changed_.wait(lock, [&] { return stop_ || ready_.size() < lookahead_; });
      if (stop_) return;
    }
    try {
      auto loaded = store_.fetch(*sample);
      std::lock_guard<std::mutex> lock(mutex_);
      ready_.push_back(std::move(loaded));
    } catch (...) {
      std::lock_guard<std::mutex> lock(mutex_);
      error_ = std::current_exception();
      changed_.notify_all();
      return;
    }
    changed_.notify_all();
  }
}

std::shared_ptr<const Sample> Prefetcher::next() {
  if (taken_ >= sequence_.size()) throw std::out_of_range("Prefetcher::next: past the end of the sequence");
  if (!thread_.joinable()) return store_.fetch(*sequence_[taken_++]);
  std::unique_lock<std::mutex> lock(mutex_);
  if (ready_.empty() && !error_) {
    const auto start = std::chrono::steady_clock::now();
    changed_.wait(lock, [&] { return !ready_.empty() || error_; });
    wait_seconds_ += std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  }
  if (ready_.empty()) std::rethrow_exception(error_);
  auto sample = std::move(ready_.front());
  ready_.pop_front();
  ++taken_;
  changed_.notify_all();
  return sample;
}

}  // namespace fedglioma::data
