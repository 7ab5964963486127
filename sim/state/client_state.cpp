#include "sim/state/client_state.h"

#include <sstream>
#include <stdexcept>

#include "core/error.h"
#include "core/remove_tree.h"
#include "core/state_bundle.h"

namespace fedglioma::sim {

namespace fs = std::filesystem;

namespace {

constexpr const char* kInRamFile = "in_ram.state";

void check_name(const std::string& name) {
  bool ok = !name.empty();
  for (const char ch : name) ok = ok && ((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '_' || ch == '.');
  if (!ok) throw std::logic_error("ClientStateStore: entry name '" + name + "' is not [a-z0-9_.]+");
}

std::string bundle_key(std::size_t client, const std::string& name) { return std::to_string(client) + "/" + name; }

std::string file_name(std::size_t client, const std::string& name) {
  return std::to_string(client) + "-" + name + ".state";
}

}  // namespace

ClientStateStore::ClientStateStore(fs::path spill_dir, std::uint64_t ram_budget_bytes)
    : spill_dir_(std::move(spill_dir)), budget_(ram_budget_bytes) {}

fs::path ClientStateStore::file_of(const Key& key) const { return spill_dir_ / file_name(key.first, key.second); }

void ClientStateStore::put(std::size_t client, const std::string& name, std::vector<float> value) {
  Entry e;
  e.bytes = value.size() * sizeof(float);
  e.buffer = std::move(value);
  store({client, name}, std::move(e));
}

void ClientStateStore::put_text(std::size_t client, const std::string& name, std::string value) {
  Entry e;
  e.is_text = true;
  e.bytes = value.size();
  e.text = std::move(value);
  store({client, name}, std::move(e));
}

void ClientStateStore::store(const Key& key, Entry entry) {
  check_name(key.second);
  std::lock_guard<std::mutex> lock(mutex_);
  const auto it = entries_.find(key);
  if (it != entries_.end()) (it->second.on_disk ? disk_ : ram_) -= it->second.bytes;
  entry.on_disk = ram_ + entry.bytes > budget_;
  if (entry.on_disk) {
    // A new file renamed over the old one: snapshots that hard-linked the old file keep it.
    StateBundle one;
    if (entry.is_text) one.texts["value"] = std::move(entry.text);
    else one.buffers["value"] = std::move(entry.buffer);
    fs::create_directories(spill_dir_);
    save_bundle(one, file_of(key));
    entry.text.clear();
    entry.buffer = {};
    disk_ += entry.bytes;
  } else {
    if (it != entries_.end() && it->second.on_disk) fs::remove(file_of(key));
    ram_ += entry.bytes;
  }
  entries_[key] = std::move(entry);
}

ClientStateStore::Entry ClientStateStore::read(const Key& key) const {
  fs::path file;
  Entry e;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    const auto it = entries_.find(key);
    if (it == entries_.end()) return e;
    if (!it->second.on_disk) return it->second;
    e.is_text = it->second.is_text;
    file = file_of(key);
  }
  StateBundle one = load_bundle(file);
  if (e.is_text) e.text = std::move(one.texts["value"]);
  else e.buffer = std::move(one.buffers["value"]);
  return e;
}

std::vector<float> ClientStateStore::buffer(std::size_t client, const std::string& name) const {
  return read({client, name}).buffer;
}

std::string ClientStateStore::text(std::size_t client, const std::string& name) const {
  return read({client, name}).text;
}

bool ClientStateStore::contains(std::size_t client, const std::string& name) const {
  std::lock_guard<std::mutex> lock(mutex_);
  return entries_.count({client, name}) > 0;
}

std::uint64_t ClientStateStore::ram_bytes() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return ram_;
}

std::uint64_t ClientStateStore::disk_bytes() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return disk_;
}

std::string ClientStateStore::snapshot(const fs::path& dir) const {
  std::lock_guard<std::mutex> lock(mutex_);
  fs::create_directories(dir);
  StateBundle in_ram;
  std::string entries;
  for (const auto& [key, e] : entries_) {
    entries += std::to_string(key.first) + " " + key.second + "\n";
    if (!e.on_disk) {
      if (e.is_text) in_ram.texts[bundle_key(key.first, key.second)] = e.text;
      else in_ram.buffers[bundle_key(key.first, key.second)] = e.buffer;
      continue;
    }
    const fs::path link = dir / file_name(key.first, key.second);
    std::error_code ec;
    fs::create_hard_link(file_of(key), link, ec);
    if (ec) fs::copy_file(file_of(key), link, fs::copy_options::overwrite_existing);
  }
  save_bundle(in_ram, dir / kInRamFile);
  return entries;
}

void ClientStateStore::restore(const fs::path& dir, const std::string& entries) {
  clear();
  StateBundle in_ram = load_bundle(dir / kInRamFile);
  std::istringstream lines(entries);
  for (std::size_t client; lines >> client;) {
    std::string name;
    lines >> name;
    const std::string key = bundle_key(client, name);
    if (const auto b = in_ram.buffers.find(key); b != in_ram.buffers.end()) {
      put(client, name, std::move(b->second));
    } else if (const auto t = in_ram.texts.find(key); t != in_ram.texts.end()) {
      put_text(client, name, std::move(t->second));
    } else {
      const fs::path file = dir / file_name(client, name);
      if (!fs::exists(file))
        throw IoError("'" + file.string() + "' is missing: the checkpoint's client state is incomplete");
      StateBundle one = load_bundle(file);
      if (one.texts.count("value")) put_text(client, name, std::move(one.texts["value"]));
      else if (one.buffers.count("value")) put(client, name, std::move(one.buffers["value"]));
      else throw IoError("'" + file.string() + "' holds no client state value");
    }
  }
}

void ClientStateStore::clear() {
  std::lock_guard<std::mutex> lock(mutex_);
  entries_.clear();
  ram_ = disk_ = 0;
  remove_tree(spill_dir_);
}

}  // namespace fedglioma::sim
