// The ucsf-pdgm layout: UCSF-PDGM-NNNN_nifti/ case folders with the metadata table.
#include <map>
#include <regex>

#include "core/error.h"
#include "data/label_tables.h"
#include "data/layouts/layout_support.h"

namespace fedglioma::data {
namespace {

namespace fs = std::filesystem;

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

}  // namespace

LayoutEntry ucsf_pdgm_layout() { return {"ucsf-pdgm", ucsf_pdgm, false}; }

}  // namespace fedglioma::data
