// The folder layout: any private layout, given by --pattern MODALITY=REGEX, with an optional table of ids and labels.
#include <algorithm>
#include <map>
#include <regex>

#include "core/error.h"
#include "data/csv_table.h"
#include "data/label_tables.h"
#include "data/layouts/layout_support.h"

namespace fedglioma::data {
namespace {

namespace fs = std::filesystem;

// The folder layout's file kinds: the four modalities in Case::images order, then the mask.
const std::vector<std::string>& folder_kinds() {
  static const std::vector<std::string> kinds = {"t1", "t1c", "t2", "flair", "mask"};
  return kinds;
}

// The folder layout's --pattern options, kind -> regex; every modality needs one, the mask may have one.
std::map<std::string, std::regex> folder_patterns(const LayoutOptions& o) {
  const std::vector<std::string>& kinds = folder_kinds();
  std::map<std::string, std::regex> patterns;
  for (const std::string& p : o.patterns) {
    const auto eq = p.find('=');
    const std::string kind = eq == std::string::npos ? "" : p.substr(0, eq);
    if (std::find(kinds.begin(), kinds.end(), kind) == kinds.end())
      throw ConfigError("--pattern '" + p + "': expected MODALITY=REGEX with MODALITY one of t1, t1c, t2, flair, mask");
    try {
      patterns.emplace(kind, std::regex(p.substr(eq + 1)));
    } catch (const std::regex_error& e) {
      throw ConfigError("--pattern '" + p + "': not a valid regular expression: " + e.what());
    }
  }
  for (const char* kind : {"t1", "t1c", "t2", "flair"})
    if (!patterns.count(kind)) throw ConfigError(std::string("--pattern: the folder layout needs one for ") + kind);
  return patterns;
}

// The files below the root that the patterns match, case -> kind -> file; a kind found twice is an error.
std::map<std::string, std::map<std::string, fs::path>> folder_files(const LayoutOptions& o,
                                                                    const std::map<std::string, std::regex>& patterns) {
  std::map<std::string, std::map<std::string, fs::path>> files;  // case -> kind -> file
  std::error_code ec;
  if (!fs::is_directory(o.root, ec)) throw DataError("'" + o.root.string() + "': not a folder");
  for (const auto& e : fs::recursive_directory_iterator(o.root)) {
    if (!e.is_regular_file()) continue;
    const std::string rel = e.path().lexically_relative(o.root).generic_string();
    for (const auto& [kind, regex] : patterns) {
      std::smatch match;
      if (!std::regex_match(rel, match, regex)) continue;
      if (match.size() < 2 || match[1].str().empty())
        throw ConfigError("--pattern for " + kind + ": needs a capture group for the case id");
      auto& slot = files[match[1]][kind];
      if (!slot.empty())
        throw DataError("case '" + match[1].str() + "': two " + kind + " files, '" + slot.string() + "' and '" +
                        e.path().string() + "'");
      slot = e.path();
    }
  }
  return files;
}

// A folder layout label table's row: the labels, and the site and split it gives (empty: the options').
struct FolderRow {
  Labels labels;
  std::string site, split;
};

// The folder layout's label tables, case id -> row; a case listed twice is an error.
std::map<std::string, FolderRow> folder_rows(const LayoutOptions& o, TableRows& tables) {
  std::map<std::string, FolderRow> rows;
  for (const auto& path : o.labels) {
    const CsvTable t = CsvTable::read(path);
    const auto id = t.column("id");
    for (std::size_t r = 0; r < t.rows().size(); ++r) {
      FolderRow row;
      auto label = [&](const char* name, std::initializer_list<int> allowed) -> std::optional<int> {
        if (!t.has_column(name)) return std::nullopt;
        const std::size_t c = t.column(name);
        const std::string v = t.rows()[r][c];
        if (v.empty()) return std::nullopt;
        for (int a : allowed)
          if (v == std::to_string(a)) return a;
        throw DataError(t.where(r, c) + ": unknown value '" + v + "' (expected " +
                        (allowed.size() == 2 ? "0, 1" : "2, 3, 4") + " or empty)");
      };
      row.labels = {label("idh", {0, 1}), label("codeletion_1p19q", {0, 1}), label("mgmt", {0, 1}),
                    label("grade", {2, 3, 4})};
      if (t.has_column("site")) row.site = t.rows()[r][t.column("site")];
      if (t.has_column("split")) row.split = t.rows()[r][t.column("split")];
      if (!rows.emplace(t.rows()[r][id], row).second)
        throw DataError(t.where(r, id) + ": case '" + t.rows()[r][id] + "' appears twice");
    }
    std::map<std::string, bool> listed;
    for (const auto& row : t.rows()) listed[row[id]] = true;
    tables.add(path, listed);
  }
  return rows;
}

Manifest folder(const LayoutOptions& o, TableRows& tables) {
  const std::vector<std::string>& kinds = folder_kinds();
  const std::map<std::string, std::regex> patterns = folder_patterns(o);
  const auto files = folder_files(o, patterns);
  const std::map<std::string, FolderRow> rows = folder_rows(o, tables);
  Manifest m;
  for (const auto& [id, by_kind] : files) {
    std::array<fs::path, 4> images;
    for (std::size_t k = 0; k < 4; ++k) {
      const auto it = by_kind.find(kinds[k]);
      if (it == by_kind.end())
        throw DataError("case '" + id + "': no " + kinds[k] + " file matches its --pattern under '" + o.root.string() + "'");
      images[k] = it->second;
    }
    const auto mask = by_kind.find("mask");
    const auto row = rows.find(id);
    const std::string site = row != rows.end() && !row->second.site.empty() ? row->second.site : o.site;
    const std::string split = row != rows.end() && !row->second.split.empty() ? row->second.split : o.split;
    Case c = make_case(id, site, split, images,
                       mask == by_kind.end() ? std::nullopt : std::optional<fs::path>(mask->second));
    if (row != rows.end()) c.labels = row->second.labels;
    m.cases.push_back(std::move(c));
  }
  return m;
}

}  // namespace

LayoutEntry folder_layout() { return {"folder", folder, true}; }

}  // namespace fedglioma::data
