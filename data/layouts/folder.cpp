// The folder layout: any private layout, given by --pattern MODALITY=REGEX, with an optional table of ids and labels.
#include <algorithm>
#include <cctype>
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

// A folder layout label table's row: the labels, the site and split it gives (empty: the
// options'), and the patient's id in another dataset.
struct FolderRow {
  Labels labels;
  std::string site, split, alias;
};

// What the table's columns are: fedglioma's names, or a published table's (--column, --value).
struct TableColumns {
  std::string id = "id";
  std::map<std::string, std::string> column;                         // field -> the table's column
  std::map<std::string, std::map<std::string, std::string>> values;  // field -> lower-case spelling -> value
  bool mapped = false;                                               // --column given: other columns unused
};

const std::vector<std::string>& table_fields() {
  static const std::vector<std::string> fields = {"idh", "codeletion_1p19q", "mgmt", "grade", "site", "split", "alias"};
  return fields;
}

std::string field_list() {
  std::string list;
  for (const std::string& f : table_fields()) list += (list.empty() ? "" : ", ") + f;
  return list;
}

// --id-column, --column FIELD=COLUMN and --value FIELD:SPELLING=VALUE.
TableColumns table_columns(const LayoutOptions& o) {
  TableColumns t;
  if (!o.id_column.empty()) t.id = o.id_column;
  const auto known = [](const std::string& field, const std::string& option) {
    const auto& fields = table_fields();
    if (std::find(fields.begin(), fields.end(), field) == fields.end())
      throw ConfigError(option + ": '" + field + "' is not a field fedglioma reads (" + field_list() + ")");
  };
  for (const std::string& c : o.columns) {
    const auto eq = c.find('=');
    if (eq == std::string::npos || eq + 1 == c.size()) throw ConfigError("--column '" + c + "': expected FIELD=COLUMN");
    known(c.substr(0, eq), "--column '" + c + "'");
    t.column[c.substr(0, eq)] = c.substr(eq + 1);
    t.mapped = true;
  }
  for (const std::string& v : o.values) {
    const auto colon = v.find(':'), eq = v.rfind('=');
    if (colon == std::string::npos || eq == std::string::npos || eq < colon)
      throw ConfigError("--value '" + v + "': expected FIELD:SPELLING=VALUE (idh:mutant=1; an empty VALUE = unknown)");
    known(v.substr(0, colon), "--value '" + v + "'");
    if (v.substr(0, colon) == "site" || v.substr(0, colon) == "split" || v.substr(0, colon) == "alias")
      throw ConfigError("--value '" + v + "': value maps apply to the labels (idh, codeletion_1p19q, mgmt, grade); " +
                        v.substr(0, colon) + " is read as written");
    t.values[v.substr(0, colon)][ascii_lower(v.substr(colon + 1, eq - colon - 1))] = v.substr(eq + 1);
  }
  return t;
}

// Each field's column in `t` (absent: not in the table); refuses a table column fedglioma does not
// read unless the table's columns are mapped, and a mapped column the table lacks.
std::map<std::string, std::size_t> field_columns(const CsvTable& t, const TableColumns& columns) {
  std::map<std::string, std::size_t> out;
  for (const std::string& field : table_fields()) {
    const auto mapped = columns.column.find(field);
    if (mapped != columns.column.end()) {
      out[field] = t.column(mapped->second);  // DataError naming the file and its columns when missing
    } else if (t.has_column(field)) {
      out[field] = t.column(field);
    }
  }
  for (const std::string& name : t.header()) {
    const auto& fields = table_fields();
    if (columns.mapped || name == columns.id || std::find(fields.begin(), fields.end(), name) != fields.end()) continue;
    throw DataError("'" + t.path().string() + "': column '" + name + "' is not one fedglioma reads (" + columns.id +
                    ", " + field_list() + "); rename it, or map a published table's columns with --id-column and "
                    "--column FIELD=COLUMN (the others are then left unread)");
  }
  return out;
}

// Cell (r, c) of `t` as a label of `field`: its --value spelling, else the plain number.
std::optional<int> label_cell(const CsvTable& t, std::size_t r, std::size_t c, const std::string& field,
                              const TableColumns& columns, std::initializer_list<int> allowed) {
  std::string v = t.rows()[r][c];
  if (const auto spellings = columns.values.find(field); spellings != columns.values.end())
    if (const auto it = spellings->second.find(ascii_lower(v)); it != spellings->second.end()) v = it->second;
  if (v.empty()) return std::nullopt;
  for (int a : allowed)
    if (v == std::to_string(a)) return a;
  const std::string shown = v == t.rows()[r][c] ? "'" + v + "'" : "'" + t.rows()[r][c] + "' (mapped to '" + v + "')";
  throw DataError(t.where(r, c) + ": unknown value " + shown + " (expected " +
                  (allowed.size() == 2 ? "0, 1" : "2, 3, 4") + ", empty, or a spelling given with --value " + field +
                  ":SPELLING=VALUE)");
}

// One table row as a FolderRow.
FolderRow folder_row(const CsvTable& t, std::size_t r, const std::map<std::string, std::size_t>& at,
                     const TableColumns& columns) {
  FolderRow row;
  const auto label = [&](const char* field, std::initializer_list<int> allowed) -> std::optional<int> {
    const auto it = at.find(field);
    return it == at.end() ? std::nullopt : label_cell(t, r, it->second, field, columns, allowed);
  };
  const auto text = [&](const char* field) {
    const auto it = at.find(field);
    return it == at.end() ? std::string() : t.rows()[r][it->second];
  };
  row.labels = {label("idh", {0, 1}), label("codeletion_1p19q", {0, 1}), label("mgmt", {0, 1}), label("grade", {2, 3, 4})};
  row.site = text("site");
  row.split = text("split");
  row.alias = text("alias");
  if (row.alias == "N/A") row.alias.clear();
  return row;
}

// The folder layout's label tables, case id -> row; a case listed twice is an error.
std::map<std::string, FolderRow> folder_rows(const LayoutOptions& o, TableRows& tables) {
  const TableColumns columns = table_columns(o);
  std::map<std::string, FolderRow> rows;
  for (const auto& path : o.labels) {
    const CsvTable t = CsvTable::read(path);
    const auto id = t.column(columns.id);
    const std::map<std::string, std::size_t> at = field_columns(t, columns);
    for (std::size_t r = 0; r < t.rows().size(); ++r)
      if (!rows.emplace(t.rows()[r][id], folder_row(t, r, at, columns)).second)
        throw DataError(t.where(r, id) + ": case '" + t.rows()[r][id] + "' appears twice");
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
    if (row != rows.end() && !row->second.alias.empty()) c.aliases.push_back(row->second.alias);
    m.cases.push_back(std::move(c));
  }
  return m;
}

}  // namespace

LayoutEntry folder_layout() { return {"folder", folder, true}; }

}  // namespace fedglioma::data
