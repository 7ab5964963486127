// The upenn-gbm layout: images_structural/<ID>/ with images_segm/ or automated_segm/ masks and the clinical table.
#include <map>

#include "core/error.h"
#include "data/label_tables.h"
#include "data/layouts/layout_support.h"

namespace fedglioma::data {
namespace {

namespace fs = std::filesystem;

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

}  // namespace

LayoutEntry upenn_gbm_layout() { return {"upenn-gbm", upenn_gbm, false}; }

}  // namespace fedglioma::data
