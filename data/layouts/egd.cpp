// The egd layout: SUBJECTS/EGD-NNNN/ with the genetic/histological table or each subject's metadata.json.
#include <nlohmann/json.hpp>

#include <algorithm>

#include "core/atomic_file.h"
#include "core/error.h"
#include "data/label_tables.h"
#include "data/layouts/layout_support.h"

namespace fedglioma::data {
namespace {

namespace fs = std::filesystem;

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

}  // namespace

LayoutEntry egd_layout() { return {"egd", egd, false}; }

}  // namespace fedglioma::data
