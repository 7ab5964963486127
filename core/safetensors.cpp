#include "core/safetensors.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <set>
#include <stdexcept>

#include "core/atomic_file.h"
#include "core/error.h"
#include "core/json_document.h"

namespace fedglioma {
namespace {

using nlohmann::ordered_json;

std::uint64_t element_count(const std::vector<std::int64_t>& shape) {
  std::uint64_t n = 1;
  for (const std::int64_t d : shape) n *= static_cast<std::uint64_t>(d);
  return n;
}

std::string little_endian(std::uint64_t value) {
  std::string out(8, '\0');
  for (int b = 0; b < 8; ++b) out[static_cast<std::size_t>(b)] = static_cast<char>((value >> (8 * b)) & 0xFF);
  return out;
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
    if (width == 0 || element_count(t.shape) * width != t.bytes.size())
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
      if (metadata)
        for (const auto& [k, v] : entry.items()) (*metadata)[k] = v.is_string() ? v.get<std::string>() : v.dump();
      continue;
    }
    const auto bad = [&](const std::string& why) { return DataError(where + ": tensor '" + name + "': " + why); };
    if (!entry.is_object() || !entry.contains("dtype") || !entry.contains("shape") || !entry.contains("data_offsets"))
      throw bad("expected dtype, shape and data_offsets");
    SafeTensor t{name, entry.at("dtype").is_string() ? entry.at("dtype").get<std::string>() : "", {}, {}};
    for (const auto& d : entry.at("shape")) {
      if (!d.is_number_unsigned()) throw bad("its shape holds " + d.dump());
      t.shape.push_back(d.get<std::int64_t>());
    }
    const auto& offsets = entry.at("data_offsets");
    if (!offsets.is_array() || offsets.size() != 2 || !offsets[0].is_number_unsigned() || !offsets[1].is_number_unsigned())
      throw bad("data_offsets must be two byte offsets");
    const std::uint64_t begin = offsets[0], end = offsets[1];
    if (begin > end || end > size) throw bad("its bytes [" + std::to_string(begin) + ", " + std::to_string(end) + ") lie outside the data");
    const std::size_t width = safetensors_element_size(t.dtype);
    if (width == 0) throw bad("unknown dtype '" + t.dtype + "'");
    if (element_count(t.shape) * width != end - begin) throw bad("its byte count does not match its dtype and shape");
    t.bytes = file.substr(data + begin, end - begin);
    found.emplace_back(begin, std::move(t));
  }
  std::sort(found.begin(), found.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  std::vector<SafeTensor> out;
  std::uint64_t next = 0;
  for (auto& [begin, t] : found) {
    if (begin < next) throw DataError(where + ": tensor '" + t.name + "' overlaps the one before it");
    next = begin + t.bytes.size();
    out.push_back(std::move(t));
  }
  return out;
}

}  // namespace fedglioma
