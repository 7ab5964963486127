#include "data/layouts.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <map>
#include <set>
#include <regex>

#include "core/atomic_file.h"
#include "core/error.h"
#include "data/csv_table.h"
#include "data/label_tables.h"

namespace fedglioma::data {
namespace {

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

// The ids each label table lists, to report the rows that match no case.
class TableRows {
 public:
  template <typename Map>
  const Map& add(const fs::path& table, const Map& rows) {
    auto& ids = ids_[table];
    for (const auto& item : rows) ids.push_back(item.first);
    return rows;
  }

  std::vector<UnmatchedRows> unmatched(const Manifest& m) const {
    std::set<std::string> cases;
    for (const Case& c : m.cases) cases.insert(c.id);
    std::vector<UnmatchedRows> out;
    for (const auto& [table, ids] : ids_) {
      UnmatchedRows rows{table, {}};
      for (const std::string& id : ids)
        if (!cases.count(id)) rows.ids.push_back(id);
      if (!rows.ids.empty()) out.push_back(std::move(rows));
    }
    return out;
  }

 private:
  std::map<fs::path, std::vector<std::string>> ids_;
};

// The layout's one label table (or none); a second would silently replace the first's labels.
std::optional<fs::path> single_table(const LayoutOptions& o) {
  if (o.labels.size() > 1)
    throw ConfigError("--labels: the " + o.layout + " layout reads one label table, got " +
                      std::to_string(o.labels.size()) + " ('" + o.labels[0].string() + "', '" + o.labels[1].string() +
                      "'); merge them into one, or build a manifest per table and use `fedglioma manifest --merge`");
  return o.labels.empty() ? std::nullopt : std::optional<fs::path>(o.labels[0]);
}

// Merges the labels `extra` knows into `into` (a table only fills what it records).
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

Manifest brats2021(const LayoutOptions& o, TableRows& tables) {
  LabelTable mgmt;
  std::map<std::string, std::string> institution;
  std::set<std::string> kinds;
  for (const auto& table : o.labels) {
    const CsvTable header = CsvTable::read(table);
    const std::string kind = header.has_column("BraTS21ID") ? "RSNA-MICCAI MGMT" : "FeTS partitioning";
    if (!kinds.insert(kind).second)
      throw ConfigError("--labels: two " + kind + " tables for brats2021 (the second, '" + table.string() +
                        "', would replace the first); give one");
    if (header.has_column("BraTS21ID")) {
      mgmt = tables.add(table, read_rsna_mgmt_table(table));
    } else if (header.has_column("Partition_ID")) {
      institution = tables.add(table, read_fets_partitions(table));
    } else {
      throw DataError("'" + table.string() +
                      "': not a table brats2021 reads (expected the RSNA-MICCAI train_labels.csv with BraTS21ID, "
                      "MGMT_value or a FeTS partitioning_*.csv with Partition_ID, Subject_ID)");
    }
  }
  Manifest m;
  static const std::regex name(R"(BraTS2021_\d{5})");
  for (const auto& dir : subfolders(o.root)) {
    const std::string id = dir.filename().string();
    if (!std::regex_match(id, name)) continue;
    const auto file = [&](const char* suffix) { return dir / (id + "_" + suffix + ".nii.gz"); };
    const auto seg = file("seg");
    Case c = make_case(id, o.site, o.split, {file("t1"), file("t1ce"), file("t2"), file("flair")},
                       fs::exists(seg) ? std::optional<fs::path>(seg) : std::nullopt);
    if (auto it = mgmt.find(id); it != mgmt.end()) merge(c.labels, it->second);
    if (auto it = institution.find(id); it != institution.end()) c.site = it->second;
    m.cases.push_back(std::move(c));
  }
  return m;
}

Manifest ucsf_pdgm(const LayoutOptions& o, TableRows& tables) {
  LabelTable labels;
  std::map<std::string, std::string> brats21;
  if (const auto table = single_table(o)) {
    labels = tables.add(*table, read_ucsf_pdgm_table(*table));
    brats21 = read_ucsf_pdgm_brats21_ids(*table);
  }
  Manifest m;
  static const std::regex name(R"((UCSF-PDGM-\d{4})_nifti)");
  for (const auto& dir : subfolders(o.root)) {
    std::smatch match;
    const std::string folder = dir.filename().string();
    if (!std::regex_match(folder, match, name)) continue;
    const std::string id = match[1];
    const auto file = [&](const char* suffix) { return dir / (id + "_" + suffix + ".nii.gz"); };
    const auto seg = file("tumor_segmentation");
    Case c = make_case(id, o.site, o.split, {file("T1"), file("T1c"), file("T2"), file("FLAIR")},
                       fs::exists(seg) ? std::optional<fs::path>(seg) : std::nullopt);
    if (auto it = labels.find(id); it != labels.end()) c.labels = it->second;
    if (auto it = brats21.find(id); it != brats21.end()) c.aliases.push_back(it->second);
    m.cases.push_back(std::move(c));
  }
  return m;
}

Manifest upenn_gbm(const LayoutOptions& o, TableRows& tables) {
  LabelTable labels;
  if (const auto table = single_table(o)) labels = tables.add(*table, read_upenn_gbm_table(*table));
  Manifest m;
  for (const auto& dir : subfolders(o.root / "images_structural")) {
    const std::string id = dir.filename().string();
    const auto file = [&](const char* suffix) { return dir / (id + "_" + suffix + ".nii.gz"); };
    std::optional<fs::path> mask;
    for (const fs::path& candidate : {o.root / "images_segm" / (id + "_segm.nii.gz"),
                                      o.root / "automated_segm" / (id + "_automated_approx_segm.nii.gz")})
      if (!mask && fs::exists(candidate)) mask = candidate;
    Case c = make_case(id, o.site, o.split, {file("T1"), file("T1GD"), file("T2"), file("FLAIR")}, mask);
    if (auto it = labels.find(id); it != labels.end()) {
      c.labels = it->second;
    } else {
      c.labels.grade = 4;  // every UPenn-GBM case is a glioblastoma
    }
    m.cases.push_back(std::move(c));
  }
  return m;
}

Manifest egd(const LayoutOptions& o, TableRows& tables) {
  LabelTable labels;
  if (const auto table = single_table(o)) labels = tables.add(*table, read_egd_table(*table));
  Manifest m;
  for (const auto& dir : subfolders(o.root / "SUBJECTS")) {
    const std::string id = dir.filename().string();
    const auto mask = dir / "MASK.nii.gz";
    Case c = make_case(id, o.site, o.split, {dir / "T1.nii.gz", dir / "T1GD.nii.gz", dir / "T2.nii.gz", dir / "FLAIR.nii.gz"},
                       fs::exists(mask) ? std::optional<fs::path>(mask) : std::nullopt);
    if (auto it = labels.find(id); it != labels.end()) {
      c.labels = it->second;
    } else if (o.labels.empty() && fs::exists(dir / "metadata.json")) {
      const fs::path meta = dir / "metadata.json";
      const auto doc = nlohmann::json::parse(read_file(meta, kMaxTextInputBytes), nullptr, false);
      if (doc.is_discarded() || !doc.is_object()) throw DataError("'" + meta.string() + "': not a JSON object");
      auto field = [&](const char* key, std::initializer_list<int> allowed) -> std::optional<int> {
        if (!doc.contains(key) || doc[key].is_null()) return std::nullopt;
        const auto& v = doc[key];
        if (!v.is_number_integer()) throw DataError("'" + meta.string() + "': " + key + " must be an integer");
        const int x = v.get<int>();
        if (x == -1) return std::nullopt;
        if (std::find(allowed.begin(), allowed.end(), x) == allowed.end())
          throw DataError("'" + meta.string() + "': " + key + " is " + std::to_string(x) + "; expected -1 or a known value");
        return x;
      };
      c.labels.idh = field("IDH", {0, 1});
      c.labels.codeletion_1p19q = field("1p19q", {0, 1});
      c.labels.grade = field("Grade", {2, 3, 4});
    }
    m.cases.push_back(std::move(c));
  }
  return m;
}

Manifest tcga(const LayoutOptions& o, TableRows& tables) {
  LabelTable labels;
  if (const auto table = single_table(o)) labels = tables.add(*table, read_tcga_table(*table));
  // patient -> suffix -> file, found anywhere below the root.
  static const std::regex name(R"((TCGA-[A-Z0-9]{2}-[A-Z0-9]{4})_[^_]+_(t1|t1Gd|t2|flair|GlistrBoost|GlistrBoost_ManuallyCorrected)\.nii\.gz)");
  std::map<std::string, std::map<std::string, fs::path>> files;
  std::error_code ec;
  if (!fs::is_directory(o.root, ec)) throw DataError("'" + o.root.string() + "': not a folder");
  for (const auto& e : fs::recursive_directory_iterator(o.root)) {
    std::smatch match;
    const std::string filename = e.path().filename().string();
    if (e.is_regular_file() && std::regex_match(filename, match, name)) {
      auto& slot = files[match[1]][match[2]];
      if (!slot.empty())
        throw DataError("case '" + std::string(match[1]) + "': two " + std::string(match[2]) + " files, '" +
                        slot.string() + "' and '" + e.path().string() + "'");
      slot = e.path();
    }
  }
  Manifest m;
  for (const auto& [id, by_kind] : files) {
    const auto get = [&, &id = id, &by_kind = by_kind](const char* kind) {
      const auto it = by_kind.find(kind);
      if (it == by_kind.end())
        throw DataError("case '" + id + "': no " + kind + " file (" + id + "_<date>_" + kind + ".nii.gz) under '" +
                        o.root.string() + "'");
      return it->second;
    };
    std::optional<fs::path> mask;
    for (const char* kind : {"GlistrBoost_ManuallyCorrected", "GlistrBoost"})
      if (!mask && by_kind.count(kind)) mask = by_kind.at(kind);
    Case c = make_case(id, o.site, o.split, {get("t1"), get("t1Gd"), get("t2"), get("flair")}, mask);
    if (auto it = labels.find(id); it != labels.end()) c.labels = it->second;
    m.cases.push_back(std::move(c));
  }
  return m;
}

Manifest folder(const LayoutOptions& o, TableRows& tables) {
  static const std::vector<std::string> kinds = {"t1", "t1c", "t2", "flair", "mask"};
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

  struct Row {
    Labels labels;
    std::string site, split;
  };
  std::map<std::string, Row> rows;
  for (const auto& path : o.labels) {
    const CsvTable t = CsvTable::read(path);
    const auto id = t.column("id");
    for (std::size_t r = 0; r < t.rows().size(); ++r) {
      Row row;
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

Manifest build_manifest(const LayoutOptions& options, std::vector<UnmatchedRows>* unmatched) {
  LayoutOptions o = options;
  if (o.site.empty()) o.site = o.layout;
  static const std::map<std::string, Manifest (*)(const LayoutOptions&, TableRows&)> layouts = {
      {"brats2021", brats2021}, {"ucsf-pdgm", ucsf_pdgm}, {"upenn-gbm", upenn_gbm},
      {"egd", egd},             {"tcga", tcga},           {"folder", folder}};
  const auto it = layouts.find(o.layout);
  if (it == layouts.end())
    throw ConfigError("--layout '" + o.layout + "' is not one of brats2021, ucsf-pdgm, upenn-gbm, egd, tcga, folder");
  if (o.split != "train" && o.split != "val" && o.split != "test" && o.split != "external")
    throw ConfigError("--split '" + o.split + "' is not one of train, val, test, external");
  if (!o.patterns.empty() && o.layout != "folder") throw ConfigError("--pattern applies to --layout folder only");
  TableRows tables;
  Manifest m = it->second(o, tables);
  for (const Case& c : m.cases)
    if (c.split != "train" && c.split != "val" && c.split != "test" && c.split != "external")
      throw DataError("case '" + c.id + "': split '" + c.split + "' is not one of train, val, test, external");
  if (m.cases.empty())
    throw DataError("'" + o.root.string() + "': no " + o.layout + " cases found (see `fedglioma manifest --help`)");
  std::sort(m.cases.begin(), m.cases.end(), [](const Case& a, const Case& b) { return a.id < b.id; });
  if (unmatched) *unmatched = tables.unmatched(m);
  return m;
}

}  // namespace fedglioma::data
