#include "core/safetensors.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <optional>
#include <set>
#include <stdexcept>

#include "core/atomic_file.h"
#include "core/error.h"
#include "core/json_document.h"

namespace fedglioma {
namespace {

using nlohmann::ordered_json;

// The byte count of `shape` elements of `width` bytes; nullopt when it overflows 64 bits.
std::optional<std::uint64_t> byte_count(const std::vector<std::int64_t>& shape, std::uint64_t width) {
  std::uint64_t n = width;
  for (const std::int64_t d : shape)
    if (d < 0 || __builtin_mul_overflow(n, static_cast<std::uint64_t>(d), &n)) return std::nullopt;
  return n;
}

std::string little_endian(std::uint64_t value) {
  std::string out(8, '\0');
  for (int b = 0; b < 8; ++b) out[static_cast<std::size_t>(b)] = static_cast<char>((value >> (8 * b)) & 0xFF);
  return out;
}

// One tensor's header entry, its bytes taken from the `size` bytes at `data` in `file`.
std::pair<std::uint64_t, SafeTensor> read_entry(const std::string& where, const std::string& name,
                                                const nlohmann::json& entry, const std::string& file, std::uint64_t data,
                                                std::uint64_t size) {
  const auto bad = [&](const std::string& why) { return DataError(where + ": tensor '" + name + "': " + why); };
  if (!entry.is_object() || !entry.contains("dtype") || !entry.contains("shape") || !entry.contains("data_offsets"))
    throw bad("expected dtype, shape and data_offsets");
  SafeTensor t{name, entry.at("dtype").is_string() ? entry.at("dtype").get<std::string>() : "", {}, {}};
  if (!entry.at("shape").is_array()) throw bad("its shape is not an array");
  for (const auto& d : entry.at("shape")) {
    if (!d.is_number_unsigned() || d.get<std::uint64_t>() > (std::uint64_t{1} << 48)) throw bad("its shape holds " + d.dump());
    t.shape.push_back(static_cast<std::int64_t>(d.get<std::uint64_t>()));
  }
  const auto& offsets = entry.at("data_offsets");
  if (!offsets.is_array() || offsets.size() != 2 || !offsets[0].is_number_unsigned() || !offsets[1].is_number_unsigned())
    throw bad("data_offsets must be two byte offsets");
  const std::uint64_t begin = offsets[0], end = offsets[1];
  if (begin > end || end > size) throw bad("its bytes [" + std::to_string(begin) + ", " + std::to_string(end) + ") lie outside the data");
  const std::size_t width = safetensors_element_size(t.dtype);
  if (width == 0) throw bad("unknown dtype '" + t.dtype + "'");
  if (byte_count(t.shape, width) != std::optional<std::uint64_t>(end - begin))
    throw bad("its byte count does not match its dtype and shape");
  t.bytes = file.substr(data + begin, end - begin);
  return {begin, std::move(t)};
}

}  // namespace

std::size_t safetensors_element_size(const std::string& dtype) {
  static const std::map<std::string, std::size_t> sizes = {
      {"BOOL", 1}, {"U8", 1}, {"I8", 1}, {"F16", 2}, {"BF16", 2}, {"I16", 2}, {"U16", 2},
      {"F32", 4},  {"I32", 4}, {"U32", 4}, {"F64", 8}, {"I64", 8}, {"U64", 8}};
  const auto it = sizes.find(dtype);
  return it == sizes.end() ? 0 : it->second;
}

void write_safetensors(const std::filesystem::path& path, const std::vector<SafeTensor>& tensors,
                       const std::map<std::string, std::string>& metadata) {
  ordered_json header = ordered_json::object();
  if (!metadata.empty()) header["__metadata__"] = metadata;
  std::uint64_t offset = 0;
  std::set<std::string> names;
  for (const SafeTensor& t : tensors) {
    if (!names.insert(t.name).second || t.name == "__metadata__")
      throw std::invalid_argument("safetensors: tensor name '" + t.name + "' given twice or reserved");
    const std::size_t width = safetensors_element_size(t.dtype);
    if (width == 0 || byte_count(t.shape, width) != std::optional<std::uint64_t>(t.bytes.size()))
      throw std::invalid_argument("safetensors: tensor '" + t.name + "' holds " + std::to_string(t.bytes.size()) +
                                  " bytes, not its " + t.dtype + " shape's");
    header[t.name] = {{"dtype", t.dtype}, {"shape", t.shape}, {"data_offsets", {offset, offset + t.bytes.size()}}};
    offset += t.bytes.size();
  }
  std::string text = header.dump();
  text.append((8 - text.size() % 8) % 8, ' ');  // the data start 8-byte aligned
  std::string file = little_endian(text.size()) + text;
  file.reserve(file.size() + offset);
  for (const SafeTensor& t : tensors) file += t.bytes;
  write_file_atomic(path, file);
}

std::vector<SafeTensor> read_safetensors(const std::filesystem::path& path, std::map<std::string, std::string>* metadata) {
  const std::string where = "'" + path.string() + "'";
  std::string file;
  try {
    file = read_file(path);
  } catch (const IoError& e) {
    throw DataError(e.what());
  }
  if (file.size() < 8) throw DataError(where + ": shorter than a safetensors header");
  std::uint64_t length = 0;
  for (int b = 7; b >= 0; --b) length = (length << 8) | static_cast<unsigned char>(file[static_cast<std::size_t>(b)]);
  if (length > file.size() - 8) throw DataError(where + ": its header length " + std::to_string(length) + " exceeds the file");
  nlohmann::json header;
  try {
    header = parse_json_document(file.substr(8, length));
  } catch (const std::invalid_argument& e) {
    throw DataError(where + ": its header is not JSON: " + e.what());
  }
  if (!header.is_object()) throw DataError(where + ": its header is not a JSON object");
  const std::uint64_t data = 8 + length, size = file.size() - data;
  std::vector<std::pair<std::uint64_t, SafeTensor>> found;
  for (const auto& [name, entry] : header.items()) {
    if (name == "__metadata__") {
      if (!entry.is_object()) throw DataError(where + ": __metadata__ must map names to strings");
      for (const auto& [k, v] : entry.items()) {
        if (!v.is_string()) throw DataError(where + ": __metadata__ \"" + k + "\" is not a string");
        if (metadata) (*metadata)[k] = v.get<std::string>();
      }
      continue;
    }
    found.push_back(read_entry(where, name, entry, file, data, size));
  }
  std::sort(found.begin(), found.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  std::vector<SafeTensor> out;
  std::uint64_t next = 0;
  for (auto& [begin, t] : found) {  // the format leaves no byte unowned: no gaps, no overlaps
    if (begin != next) throw DataError(where + ": tensor '" + t.name + "' does not start where the one before it ends");
    next = begin + t.bytes.size();
    out.push_back(std::move(t));
  }
  if (next != size) throw DataError(where + ": " + std::to_string(size - next) + " byte(s) after the last tensor");
  return out;
}

}  // namespace fedglioma
