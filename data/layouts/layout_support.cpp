#include "data/layouts/layout_support.h"

#include <algorithm>
#include <cctype>

#include "core/atomic_file.h"
#include "core/error.h"

namespace fedglioma::data {

namespace fs = std::filesystem;

std::vector<fs::path> subfolders(const fs::path& dir) {
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) throw DataError("'" + dir.string() + "': not a folder");
  std::vector<fs::path> out;
  for (const auto& e : fs::directory_iterator(dir))
    if (e.is_directory()) out.push_back(e.path());
  std::sort(out.begin(), out.end());
  return out;
}

fs::path require_file(const fs::path& path, const std::string& id) {
  if (!fs::is_regular_file(path))
    throw DataError("case '" + id + "': expected '" + path.string() + "', which does not exist");
  return path;
}

std::optional<fs::path> single_table(const LayoutOptions& o) {
  if (o.labels.size() > 1)
    throw ConfigError("--labels: the " + o.layout + " layout reads one label table, got " +
                      std::to_string(o.labels.size()) + " ('" + o.labels[0].string() + "', '" + o.labels[1].string() +
                      "'); merge them into one, or build a manifest per table and use `fedglioma manifest --merge`");
  return o.labels.empty() ? std::nullopt : std::optional<fs::path>(o.labels[0]);
}

void merge(Labels& into, const Labels& extra) {
  if (extra.idh) into.idh = extra.idh;
  if (extra.codeletion_1p19q) into.codeletion_1p19q = extra.codeletion_1p19q;
  if (extra.mgmt) into.mgmt = extra.mgmt;
  if (extra.grade) into.grade = extra.grade;
}

Case make_case(const std::string& id, const std::string& site, const std::string& split,
               const std::array<fs::path, 4>& images, const std::optional<fs::path>& mask) {
  Case c;
  c.id = id;
  c.site = site;
  c.split = split;
  for (std::size_t m = 0; m < 4; ++m) c.images[m] = require_file(images[m], id);
  if (mask) c.mask = require_file(*mask, id);
  return c;
}

namespace {

// The modality (index into kModalities) a channel name means, or -1: case, spaces, '-' and '_'
// ignored, so "T1w", "t1gd", "T1ce", "T1-Gd", "t2f" and "T2 FLAIR" all read.
int modality_named(const std::string& name) {
  std::string key;
  for (const char ch : name)
    if (std::isalnum(static_cast<unsigned char>(ch))) key += static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  static const std::map<std::string, int> names = {
      {"t1", 0},    {"t1w", 0},     {"t1n", 0},     {"nativet1", 0}, {"t1native", 0}, {"t1c", 1},      {"t1ce", 1},
      {"t1gd", 1},  {"t1wgd", 1},   {"t1post", 1},  {"t1contrast", 1}, {"t1wce", 1},  {"t2", 2},       {"t2w", 2},
      {"flair", 3}, {"t2flair", 3}, {"t2f", 3},     {"t2wflair", 3}};
  const auto it = names.find(key);
  return it == names.end() ? -1 : it->second;
}

}  // namespace

std::optional<int> small_number(const std::string& text) {
  if (text.empty() || text.size() > 6 || text.find_first_not_of("0123456789") != std::string::npos) return std::nullopt;
  return std::stoi(text);
}

std::array<int, 4> channel_map(const std::map<int, std::string>& names, const std::vector<std::string>& overrides,
                               const std::string& where) {
  std::array<int, 4> channel{-1, -1, -1, -1};
  std::string listed;
  for (const auto& [index, name] : names) {
    listed += (listed.empty() ? "" : ", ") + std::to_string(index) + " \"" + name + "\"";
    const int m = modality_named(name);
    if (m >= 0 && channel[m] >= 0)
      throw ConfigError(where + ": channels " + std::to_string(channel[m]) + " and " + std::to_string(index) +
                        " both read as " + kModalities[m] + "; say which is which with --channel MODALITY=INDEX");
    if (m >= 0) channel[m] = index;
  }
  for (const std::string& o : overrides) {
    const auto eq = o.find('=');
    const auto m = std::find(kModalities.begin(), kModalities.end(), eq == std::string::npos ? o : o.substr(0, eq));
    const std::optional<int> index = small_number(eq == std::string::npos ? "" : o.substr(eq + 1));
    if (m == kModalities.end() || !index || !names.count(*index))
      throw ConfigError("--channel '" + o + "': expected MODALITY=INDEX with MODALITY one of t1, t1c, t2, flair and "
                        "INDEX a channel of " + where + " (" + listed + ")");
    channel[static_cast<std::size_t>(m - kModalities.begin())] = *index;
  }
  for (std::size_t m = 0; m < 4; ++m) {
    if (channel[m] < 0)
      throw ConfigError(where + ": no channel is " + kModalities[m] + " (channels: " + listed +
                        "); give it with --channel " + kModalities[m] + "=INDEX");
    for (std::size_t other = 0; other < m; ++other)
      if (channel[other] == channel[m])
        throw ConfigError(where + ": channel " + std::to_string(channel[m]) + " is both " + kModalities[other] + " and " +
                          kModalities[m] + "; fix the --channel mapping");
  }
  return channel;
}

std::string read_dataset_json(const fs::path& path) {
  if (!fs::is_regular_file(path)) throw DataError("'" + path.string() + "': missing (the dataset's description)");
  try {
    return read_file(path, kMaxTextInputBytes);
  } catch (const IoError& e) {
    throw DataError(e.what());
  }
}

}  // namespace fedglioma::data
