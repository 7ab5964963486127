// The tcga layout: BraTS-TCGA files TCGA-XX-YYYY_<date>_<kind>.nii.gz anywhere below the root, with the molecular table.
#include <map>
#include <regex>

#include "core/error.h"
#include "data/label_tables.h"
#include "data/layouts/layout_support.h"

namespace fedglioma::data {
namespace {

namespace fs = std::filesystem;

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

}  // namespace

LayoutEntry tcga_layout() { return {"tcga", tcga, false}; }

}  // namespace fedglioma::data
