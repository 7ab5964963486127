#include "data/label_tables.h"

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <utility>
#include <vector>

#include "core/error.h"
#include "data/csv_table.h"

namespace fedglioma::data {
namespace {

std::string trim(const std::string& s) {
  const auto b = s.find_first_not_of(" \t");
  if (b == std::string::npos) return "";
  return s.substr(b, s.find_last_not_of(" \t") - b + 1);
}

[[noreturn]] void unknown_value(const CsvTable& t, std::size_t row, std::size_t col, const std::string& expected) {
  throw DataError(t.where(row, col) + ": unknown value '" + t.rows()[row][col] + "' (expected " + expected + ")");
}

std::optional<int> whole_number(const CsvTable& t, std::size_t row, std::size_t col, std::initializer_list<int> allowed,
                                const std::string& expected, std::optional<int> unknown_code = std::nullopt) {
  const std::string v = trim(t.rows()[row][col]);
  if (v.empty()) return std::nullopt;
  int x = 0;
  std::size_t used = 0;
  try {
    x = std::stoi(v, &used);
  } catch (...) {
    unknown_value(t, row, col, expected);
  }
  if (used != v.size()) unknown_value(t, row, col, expected);
  if (unknown_code && x == *unknown_code) return std::nullopt;
  if (std::find(allowed.begin(), allowed.end(), x) == allowed.end()) unknown_value(t, row, col, expected);
  return x;
}

// Maps one cell through a table's known spellings: `known` spelling -> value, `unknown` spellings
// (and an empty cell) -> nullopt, anything else -> DataError naming file, row and column.
// With `ignore_case` the spellings are given in lower case and the cell is lowered first.
std::optional<int> spelling(const CsvTable& t, std::size_t row, std::size_t col,
                            const std::vector<std::pair<std::string, int>>& known,
                            const std::vector<std::string>& unknown, bool ignore_case) {
  std::string v = trim(t.rows()[row][col]);
  if (ignore_case) v = ascii_lower(v);
  if (v.empty()) return std::nullopt;
  for (const auto& [name, value] : known)
    if (v == name) return value;
  for (const auto& name : unknown)
    if (v == name) return std::nullopt;
  std::string expected;
  for (const auto& [name, value] : known) expected += (expected.empty() ? "" : ", ") + name;
  for (const auto& name : unknown) expected += ", " + name + " (unknown)";
  unknown_value(t, row, col, expected + " or empty" + (ignore_case ? ", in any case" : ""));
}

// UCSF-PDGM's table writes 3 digits (UCSF-PDGM-004); its image folders 4 (UCSF-PDGM-0004_nifti).
std::string ucsf_pdgm_key(const CsvTable& t, std::size_t row, std::size_t col) {
  const std::string raw = trim(t.rows()[row][col]);
  const std::string prefix = "UCSF-PDGM-";
  const std::string digits = raw.rfind(prefix, 0) == 0 ? raw.substr(prefix.size()) : "";
  if (digits.empty() || digits.size() > 4 || digits.find_first_not_of("0123456789") != std::string::npos)
    unknown_value(t, row, col, "UCSF-PDGM-NNN");
  return prefix + std::string(4 - digits.size(), '0') + digits;
}

std::string brats21_id(const CsvTable& t, std::size_t row, std::size_t col) {
  const std::string v = trim(t.rows()[row][col]);
  if (v.empty() || v.size() > 5 || v.find_first_not_of("0123456789") != std::string::npos)
    unknown_value(t, row, col, "a BraTS 2021 id of up to 5 digits");
  return "BraTS2021_" + std::string(5 - v.size(), '0') + v;
}

void insert_unique(LabelTable& table, const std::string& key, const Labels& labels, const CsvTable& t, std::size_t row) {
  if (!table.emplace(key, labels).second)
    throw DataError("'" + t.path().string() + "' row " + std::to_string(row + 1) + ": patient '" + key +
                    "' appears twice");
}

}  // namespace

LabelTable read_ucsf_pdgm_table(const std::filesystem::path& path) {
  const CsvTable t = CsvTable::read(path);
  const auto id = t.column("ID"), idh = t.column("IDH"), codel = t.column("1p/19q"), mgmt = t.column("MGMT status"),
             grade = t.column("WHO CNS Grade");
  LabelTable out;
  for (std::size_t r = 0; r < t.rows().size(); ++r) {
    const auto& row = t.rows()[r];
    const std::string key = ucsf_pdgm_key(t, r, id);
    Labels l;
    const std::string i = ascii_lower(trim(row[idh]));
    if (i == "wildtype") {
      l.idh = 0;
    } else if (i == "mutated (nos)" || i.rfind("idh1 p.", 0) == 0 || i.rfind("idh2 p.", 0) == 0) {
      l.idh = 1;
    } else if (!i.empty()) {
      unknown_value(t, r, idh, "wildtype, mutated (NOS), IDH1 p.* or IDH2 p.*");
    }
    l.codeletion_1p19q =
        spelling(t, r, codel, {{"intact", 0}, {"co-deletion", 1}, {"relative co-deletion", 1}}, {}, true);
    l.mgmt = spelling(t, r, mgmt, {{"positive", 1}, {"negative", 0}}, {"indeterminate"}, true);
    l.grade = whole_number(t, r, grade, {2, 3, 4}, "2, 3 or 4");
    insert_unique(out, key, l, t, r);
  }
  return out;
}

std::map<std::string, std::string> read_ucsf_pdgm_brats21_ids(const std::filesystem::path& path) {
  const CsvTable t = CsvTable::read(path);
  std::map<std::string, std::string> out;
  if (!t.has_column("BraTS21 ID")) return out;  // older exports of the table lack the crosswalk
  const auto id = t.column("ID"), brats = t.column("BraTS21 ID");
  for (std::size_t r = 0; r < t.rows().size(); ++r) {
    const std::string b = trim(t.rows()[r][brats]);
    if (!b.empty()) out[ucsf_pdgm_key(t, r, id)] = b;
  }
  return out;
}

LabelTable read_upenn_gbm_table(const std::filesystem::path& path) {
  const CsvTable t = CsvTable::read(path);
  const auto id = t.column("ID"), idh = t.column_any({"IDH1", "IDH"}), mgmt = t.column_any({"MGMT", "MGMT_status"});
  LabelTable out;
  for (std::size_t r = 0; r < t.rows().size(); ++r) {
    const auto& row = t.rows()[r];
    Labels l;
    l.grade = 4;  // UPenn-GBM holds glioblastomas only
    l.idh = spelling(t, r, idh, {{"wildtype", 0}, {"mutated", 1}}, {"nos/nec", "not available"}, true);
    l.mgmt = spelling(t, r, mgmt, {{"methylated", 1}, {"unmethylated", 0}}, {"indeterminate", "not available"}, true);
    const std::string key = trim(row[id]);
    if (key.empty()) unknown_value(t, r, id, "a patient id");
    insert_unique(out, key, l, t, r);
  }
  return out;
}

LabelTable read_rsna_mgmt_table(const std::filesystem::path& path) {
  const CsvTable t = CsvTable::read(path);
  const auto id = t.column("BraTS21ID"), value = t.column("MGMT_value");
  LabelTable out;
  for (std::size_t r = 0; r < t.rows().size(); ++r) {
    Labels l;
    l.mgmt = whole_number(t, r, value, {0, 1}, "0 or 1");
    insert_unique(out, brats21_id(t, r, id), l, t, r);
  }
  return out;
}

std::map<std::string, std::string> read_fets_partitions(const std::filesystem::path& path) {
  const CsvTable t = CsvTable::read(path);
  const auto partition = t.column("Partition_ID"), subject = t.column("Subject_ID");
  std::map<std::string, std::string> out;
  for (std::size_t r = 0; r < t.rows().size(); ++r) {
    const std::string s = trim(t.rows()[r][subject]);
    const std::string prefix = "FeTS2022_";
    if (s.rfind(prefix, 0) != 0 || s.size() != prefix.size() + 5)
      unknown_value(t, r, subject, "FeTS2022_NNNNN");
    const std::string p = trim(t.rows()[r][partition]);
    if (p.empty() || p.find_first_not_of("-0123456789") != std::string::npos)
      unknown_value(t, r, partition, "an integer partition id");
    out["BraTS2021_" + s.substr(prefix.size())] = "inst-" + p;
  }
  return out;
}

LabelTable read_tcga_table(const std::filesystem::path& path) {
  const CsvTable t = CsvTable::read(path);
  const auto id = t.column("Case_ID"), grade = t.column("Grade"), idh = t.column("IDH1"),
             diagnosis = t.column("Primary_Diagnosis");
  LabelTable out;
  for (std::size_t r = 0; r < t.rows().size(); ++r) {
    const auto& row = t.rows()[r];
    Labels l;
    l.idh = spelling(t, r, idh, {{"MUTATED", 1}, {"NOT_MUTATED", 0}}, {"--"}, false);
    const std::string g = trim(row[grade]);
    const std::string d = ascii_lower(trim(row[diagnosis]));
    if (g == "GBM") {
      l.grade = 4;
    } else if (g == "LGG") {
      if (d.find("anaplastic") != std::string::npos) {
        l.grade = 3;
      } else if (d != "--" && !d.empty()) {
        l.grade = 2;
      }
    } else if (g != "--" && !g.empty()) {
      unknown_value(t, r, grade, "GBM or LGG");
    }
    insert_unique(out, trim(row[id]), l, t, r);
  }
  return out;
}

LabelTable read_egd_table(const std::filesystem::path& path) {
  const CsvTable t = CsvTable::read(path);
  const auto id = t.column("Subject"), idh = t.column("IDH"), codel = t.column("1p19q"), grade = t.column("Grade");
  LabelTable out;
  for (std::size_t r = 0; r < t.rows().size(); ++r) {
    Labels l;
    l.idh = whole_number(t, r, idh, {0, 1}, "0, 1 or -1 (unknown)", -1);
    l.codeletion_1p19q = whole_number(t, r, codel, {0, 1}, "0, 1 or -1 (unknown)", -1);
    l.grade = whole_number(t, r, grade, {2, 3, 4}, "2, 3, 4 or -1 (unknown)", -1);
    insert_unique(out, trim(t.rows()[r][id]), l, t, r);
  }
  return out;
}

}  // namespace fedglioma::data
