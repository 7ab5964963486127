// The brats2021 layout: BraTS2021_NNNNN/ case folders, with the RSNA-MICCAI MGMT table and FeTS partitions.
#include <map>
#include <regex>
#include <set>

#include "core/error.h"
#include "data/csv_table.h"
#include "data/label_tables.h"
#include "data/layouts/layout_support.h"

namespace fedglioma::data {
namespace {

namespace fs = std::filesystem;

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
    if (c.mask) c.label_convention = "brats2021";  // 1 necrotic / non-enhancing core, 2 oedema, 4 enhancing
    if (auto it = mgmt.find(id); it != mgmt.end()) merge(c.labels, it->second);
    if (auto it = institution.find(id); it != institution.end()) c.site = it->second;
    m.cases.push_back(std::move(c));
  }
  return m;
}

}  // namespace

LayoutEntry brats2021_layout() { return {"brats2021", brats2021, false}; }

}  // namespace fedglioma::data
