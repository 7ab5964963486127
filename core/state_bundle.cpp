#include "core/state_bundle.h"

#include <cstring>

#include "core/atomic_file.h"
#include "core/error.h"
#include "core/hash.h"

namespace fedglioma {
namespace {

constexpr char kMagic[8] = {'F', 'G', 'S', 'T', 'A', 'T', 'E', '1'};

template <typename T>
void put(std::string& out, const T& value) {
  out.append(reinterpret_cast<const char*>(&value), sizeof value);
}

void put_text(std::string& out, const std::string& text) {
  put(out, static_cast<std::uint64_t>(text.size()));
  out += text;
}

class Cursor {
 public:
  Cursor(const std::string& bytes, std::size_t end, const std::filesystem::path& path)
      : bytes_(bytes), end_(end), path_(path) {}
  template <typename T>
  T take() {
    need(sizeof(T));
    T value;
    std::memcpy(&value, bytes_.data() + pos_, sizeof value);
    pos_ += sizeof value;
    return value;
  }
  std::string take_text() {
    const auto n = take<std::uint64_t>();
    need(n);
    std::string text = bytes_.substr(pos_, n);
    pos_ += n;
    return text;
  }
  const char* take_raw(std::size_t n) {
    need(n);
    const char* at = bytes_.data() + pos_;
    pos_ += n;
    return at;
  }
  bool done() const { return pos_ == end_; }

 private:
  void need(std::uint64_t n) const {
    if (n > end_ - pos_) throw IoError("'" + path_.string() + "': checkpoint state is truncated or corrupt");
  }
  const std::string& bytes_;
  std::size_t end_, pos_ = sizeof kMagic;
  const std::filesystem::path& path_;
};

}  // namespace

void save_bundle(const StateBundle& bundle, const std::filesystem::path& path) {
  std::string out(kMagic, sizeof kMagic);
  for (const auto& [name, values] : bundle.buffers) {
    out += 'b';
    put_text(out, name);
    put(out, static_cast<std::uint64_t>(values.size()));
    out.append(reinterpret_cast<const char*>(values.data()), values.size() * sizeof(float));
  }
  for (const auto& [name, value] : bundle.integers) {
    out += 'i';
    put_text(out, name);
    put(out, value);
  }
  for (const auto& [name, text] : bundle.texts) {
    out += 't';
    put_text(out, name);
    put_text(out, text);
  }
  put(out, fnv1a_words(out.data(), out.size()));
  write_file_atomic(path, out);
}

StateBundle load_bundle(const std::filesystem::path& path) {
  const std::string bytes = read_file(path);
  const std::string damaged = "'" + path.string() + "': checkpoint state is truncated or corrupt";
  if (bytes.size() < sizeof kMagic + 8 || std::memcmp(bytes.data(), kMagic, sizeof kMagic) != 0)
    throw IoError(damaged);
  const std::size_t end = bytes.size() - 8;
  std::uint64_t stored;
  std::memcpy(&stored, bytes.data() + end, 8);
  if (stored != fnv1a_words(bytes.data(), end)) throw IoError(damaged);
  StateBundle bundle;
  Cursor in(bytes, end, path);
  while (!in.done()) {
    const char kind = in.take<char>();
    const std::string name = in.take_text();
    if (kind == 'b') {
      const auto n = in.take<std::uint64_t>();
      if (n > (end / sizeof(float))) throw IoError(damaged);
      const char* raw = in.take_raw(n * sizeof(float));
      std::vector<float>& values = bundle.buffers[name];
      values.resize(n);
      std::memcpy(values.data(), raw, n * sizeof(float));
    } else if (kind == 'i') {
      bundle.integers[name] = in.take<std::int64_t>();
    } else if (kind == 't') {
      bundle.texts[name] = in.take_text();
    } else {
      throw IoError(damaged);
    }
  }
  return bundle;
}

}  // namespace fedglioma
