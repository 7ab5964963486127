#include "data/layouts/layout_support.h"

#include <algorithm>

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

}  // namespace fedglioma::data
