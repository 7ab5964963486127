#include "data/cache.h"

#include <atomic>
#include <cstring>
#include <exception>
#include <mutex>
#include <set>

#include "core/atomic_file.h"
#include "core/error.h"
#include "core/hash.h"

namespace fedglioma::data {
namespace {

namespace fs = std::filesystem;

constexpr char kMagic[8] = {'F', 'G', 'C', 'A', 'C', 'H', 'E', '1'};
constexpr std::uint32_t kFormatVersion = 3;

template <typename T>
void put(std::string& out, const T& value) {
  out.append(reinterpret_cast<const char*>(&value), sizeof(T));
}

template <typename T>
bool take(const std::string& in, std::size_t& pos, T& value) {
  if (pos + sizeof(T) > in.size()) return false;
  std::memcpy(&value, in.data() + pos, sizeof(T));
  pos += sizeof(T);
  return true;
}

std::string source_signature(const fs::path& file) {
  std::error_code ec;
  const auto size = fs::file_size(file, ec);
  if (ec) throw DataError("'" + file.string() + "': file does not exist or is not readable");
  const auto mtime = fs::last_write_time(file, ec).time_since_epoch().count();
  return file.string() + "|" + std::to_string(size) + "|" + std::to_string(mtime) + "\n";
}

}  // namespace

SampleCache::SampleCache(fs::path dir) : dir_(std::move(dir)) {}

fs::path SampleCache::entry_path(const Case& record, const PreprocessOptions& options) const {
  std::string key = "v" + std::to_string(kFormatVersion) + "\n";
  for (const auto& image : record.images) key += source_signature(image);
  if (record.mask) key += source_signature(*record.mask);
  for (int d = 0; d < 3; ++d) key += std::to_string(options.size[d]) + "," + std::to_string(options.spacing[d]) + ";";
  key += options.on_mismatch;
  // What else decides the voxels, added only when set, so that the entries of 3-D files with the
  // default labels keep their names.
  for (std::size_t m = 0; m < 4; ++m)
    if (record.channels[m] >= 0) key += "|" + std::to_string(m) + "@" + std::to_string(record.channels[m]);
  if (!record.label_convention.empty()) key += "|labels=" + record.label_convention;
  if (reads_regions(record, options)) key += "|regions";
  char name[40];
  std::snprintf(name, sizeof name, "%016llx.fgc", static_cast<unsigned long long>(fnv1a(key)));
  return dir_ / name;
}

namespace {

// The entry's checksum: one per section, chained, so that each section can be read straight
// into its own buffer.
std::uint64_t entry_checksum(const std::string& header, const Sample& s) {
  constexpr std::uint64_t kPrime = 0x9E3779B97F4A7C15ULL;
  std::uint64_t h = content_hash(header.data(), header.size());
  h = (h ^ content_hash(s.image.data(), s.image.size() * sizeof(float))) * kPrime;
  h = (h ^ content_hash(s.mask.data(), s.mask.size())) * kPrime;
  return h;
}

std::string entry_header(const Sample& s) {
  std::string bytes(kMagic, sizeof kMagic);
  put(bytes, kFormatVersion);
  for (auto v : s.geometry.size) put(bytes, v);
  for (auto v : s.geometry.spacing) put(bytes, v);
  for (auto v : s.geometry.origin) put(bytes, v);
  for (auto v : s.geometry.direction) put(bytes, v);
  put(bytes, static_cast<std::uint64_t>(s.image.size()));
  put(bytes, static_cast<std::uint64_t>(s.mask.size()));
  return bytes;
}

}  // namespace

std::optional<Sample> SampleCache::load(const Case& record, const PreprocessOptions& options) const {
  if (!enabled()) return std::nullopt;
  const fs::path path = entry_path(record, options);
  std::error_code ec;
  const auto file_size = fs::file_size(path, ec);
  if (ec) return std::nullopt;  // a miss
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (!f) return std::nullopt;
  Sample s{record.id, record.patient_id(), record.site, record.split, record.labels, {}, {}, {}, 0};
  // The header has a fixed size: magic, version, geometry (3 + 3 + 3 + 9 numbers), two counts.
  std::string header(sizeof kMagic + sizeof kFormatVersion + 3 * 8 + 3 * 8 + 3 * 8 + 9 * 8 + 2 * 8, '\0');
  std::uint32_t version = 0;
  std::uint64_t n_image = 0, n_mask = 0, stored = 0;
  std::size_t pos = sizeof kMagic;
  bool ok = std::fread(header.data(), 1, header.size(), f) == header.size() &&
            std::memcmp(header.data(), kMagic, sizeof kMagic) == 0 && take(header, pos, version) &&
            version == kFormatVersion;
  for (int d = 0; ok && d < 3; ++d) ok = take(header, pos, s.geometry.size[d]);
  for (int d = 0; ok && d < 3; ++d) ok = take(header, pos, s.geometry.spacing[d]);
  for (int d = 0; ok && d < 3; ++d) ok = take(header, pos, s.geometry.origin[d]);
  for (int d = 0; ok && d < 9; ++d) ok = take(header, pos, s.geometry.direction[d]);
  ok = ok && take(header, pos, n_image) && take(header, pos, n_mask) &&
       n_image == 4 * static_cast<std::uint64_t>(s.geometry.voxel_count()) && (n_mask == 0 || n_mask * 4 == n_image) &&
       file_size == header.size() + n_image * sizeof(float) + n_mask + sizeof stored;
  if (ok) {
    // Sections are read straight into the sample's buffers.
    s.image.resize(n_image);
    s.mask.resize(n_mask);
    s.has_mask = n_mask > 0;
    s.has_regions = s.has_mask && reads_regions(record, options);
    ok = std::fread(s.image.data(), sizeof(float), n_image, f) == n_image &&
         std::fread(s.mask.data(), 1, n_mask, f) == n_mask && std::fread(&stored, sizeof stored, 1, f) == 1 &&
         entry_checksum(header, s) == stored;
  }
  std::fclose(f);
  if (!ok) {
    fs::remove(path, ec);  // damaged: rebuilt by the caller
    return std::nullopt;
  }
  return s;
}

std::pair<std::size_t, std::uintmax_t> SampleCache::prune(const std::vector<const Case*>& records,
                                                          const PreprocessOptions& options) const {
  if (!enabled() || !fs::is_directory(dir_)) return {0, 0};
  std::set<fs::path> keep;
  for (const Case* c : records) keep.insert(entry_path(*c, options));
  std::size_t removed = 0;
  std::uintmax_t bytes = 0;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(dir_, ec)) {
    if (!entry.is_regular_file() || entry.path().extension() != ".fgc" || keep.count(entry.path())) continue;
    const std::uintmax_t size = entry.file_size(ec);
    if (fs::remove(entry.path(), ec)) {
      ++removed;
      bytes += size;
    }
  }
  return {removed, bytes};
}

void SampleCache::store(const Case& record, const PreprocessOptions& options, const Sample& sample) const {
  if (!enabled()) return;
  std::error_code ec;
  fs::create_directories(dir_, ec);
  if (ec) throw IoError("cannot create cache folder '" + dir_.string() + "': " + ec.message());
  const std::string header = entry_header(sample);
  std::string bytes = header;
  bytes.append(reinterpret_cast<const char*>(sample.image.data()), sample.image.size() * sizeof(float));
  bytes.append(reinterpret_cast<const char*>(sample.mask.data()), sample.mask.size());
  put(bytes, entry_checksum(header, sample));
  write_file_atomic(entry_path(record, options), bytes);
}

std::uint64_t sample_fingerprint(const Sample& s) {
  std::string meta = s.id + "|" + s.site + "|" + s.split;
  for (std::size_t m = 0; m < kMarkers.size(); ++m) {
    const auto value = m == 3 ? s.labels.grade : s.labels.binary(m);
    meta += "|" + (value ? std::to_string(*value) : std::string("-"));
  }
  std::uint64_t h = content_hash(meta.data(), meta.size());
  const std::string header = entry_header(s);
  h = (h ^ content_hash(header.data(), header.size())) * 0x9E3779B97F4A7C15ULL;
  return entry_checksum(std::to_string(h), s);
}

std::vector<Sample> load_samples(const std::vector<const Case*>& records, const PreprocessOptions& options,
                                 const SampleCache& cache, int threads,
                                 const std::function<void(std::size_t, std::size_t)>& progress) {
  std::vector<Sample> out(records.size());
  std::vector<std::exception_ptr> errors(records.size());
  std::atomic<std::size_t> done{0};
  std::mutex progress_mutex;
#pragma omp parallel for num_threads(std::max(1, threads)) schedule(dynamic)
  for (std::size_t i = 0; i < records.size(); ++i) {
    try {
      if (auto cached = cache.load(*records[i], options)) {
        out[i] = std::move(*cached);
      } else {
        out[i] = preprocess_case(*records[i], options);
        cache.store(*records[i], options, out[i]);
      }
      out[i].fingerprint = sample_fingerprint(out[i]);
    } catch (...) {
      errors[i] = std::current_exception();
    }
    const std::size_t finished = ++done;
    if (progress) {
      std::lock_guard<std::mutex> lock(progress_mutex);
      progress(finished, records.size());
    }
  }
  for (const auto& e : errors)
    if (e) std::rethrow_exception(e);
  return out;
}

}  // namespace fedglioma::data
