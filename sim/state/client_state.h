#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

namespace fedglioma::sim {

/// What each client keeps from round to round: SCAFFOLD's control variate, FedBN's normalisation
/// layers, local mode's model, a kept optimizer. Entries are named per client ("scaffold.c",
/// "optimizer") and hold either floats or text. They stay in RAM up to `ram_budget_bytes` in all
/// (runtime.client_state_ram_gb); the ones that would exceed it live on disk under `spill_dir`, one
/// checksummed file per entry, and are read back when asked for. Where an entry lives never
/// changes its value, so the budget never changes a result.
///
/// Threads may read any entries and write different entries at once. A spilled entry is always
/// replaced by a new file (an atomic rename), never rewritten in place, so a snapshot can
/// hard-link it and stay unchanged.
class ClientStateStore {
 public:
  ClientStateStore(std::filesystem::path spill_dir, std::uint64_t ram_budget_bytes);
  ClientStateStore(const ClientStateStore&) = delete;
  ClientStateStore& operator=(const ClientStateStore&) = delete;

  void put(std::size_t client, const std::string& name, std::vector<float> value);
  void put_text(std::size_t client, const std::string& name, std::string value);
  /// The entry's value; empty when the client has none (it never stored one).
  std::vector<float> buffer(std::size_t client, const std::string& name) const;
  std::string text(std::size_t client, const std::string& name) const;
  bool contains(std::size_t client, const std::string& name) const;

  std::uint64_t ram_bytes() const;
  std::uint64_t disk_bytes() const;

  /// Writes every entry into `dir`, a new folder: the in-RAM ones as one file, the spilled ones
  /// hard-linked (copied where the file system has no hard links). Returns the list of entries
  /// ("client name" lines) for restore() to check against.
  std::string snapshot(const std::filesystem::path& dir) const;
  /// Replaces every entry with those a snapshot in `dir` holds; `entries` is what snapshot()
  /// returned. Throws IoError naming the file when one is missing or damaged.
  void restore(const std::filesystem::path& dir, const std::string& entries);
  /// Forgets every entry and removes the spill folder.
  void clear();

 private:
  struct Entry {
    bool is_text = false;
    bool on_disk = false;
    std::vector<float> buffer;
    std::string text;
    std::uint64_t bytes = 0;
  };
  using Key = std::pair<std::size_t, std::string>;

  void store(const Key& key, Entry entry);
  Entry read(const Key& key) const;
  std::filesystem::path file_of(const Key& key) const;

  std::filesystem::path spill_dir_;
  std::uint64_t budget_;
  mutable std::mutex mutex_;
  std::map<Key, Entry> entries_;  // on-disk entries keep only their kind and size here
  std::uint64_t ram_ = 0, disk_ = 0;
};

}  // namespace fedglioma::sim
