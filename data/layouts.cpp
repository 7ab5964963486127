#include "data/layouts.h"

#include <algorithm>

#include "core/error.h"
#include "core/file_names.h"
#include "data/layouts/layout_support.h"

namespace fedglioma::data {

// The layouts, one line each: data/layouts/<stem>.cpp defines <stem>_layout().
#define FEDGLIOMA_LAYOUTS(LAYOUT) \
  LAYOUT(brats2021)               \
  LAYOUT(brats2023)               \
  LAYOUT(ucsf_pdgm)               \
  LAYOUT(upenn_gbm)               \
  LAYOUT(egd)                     \
  LAYOUT(tcga)                    \
  LAYOUT(msd)                     \
  LAYOUT(nnunet)                  \
  LAYOUT(folder)

#define FEDGLIOMA_DECLARE_LAYOUT(stem) LayoutEntry stem##_layout();
FEDGLIOMA_LAYOUTS(FEDGLIOMA_DECLARE_LAYOUT)
#undef FEDGLIOMA_DECLARE_LAYOUT

const std::vector<LayoutEntry>& layout_registry() {
#define FEDGLIOMA_LAYOUT_ENTRY(stem) stem##_layout(),
  static const std::vector<LayoutEntry> all = {FEDGLIOMA_LAYOUTS(FEDGLIOMA_LAYOUT_ENTRY)};
#undef FEDGLIOMA_LAYOUT_ENTRY
  return all;
}

std::string layout_names(const std::string& separator) {
  std::string names;
  for (const LayoutEntry& e : layout_registry()) names += (names.empty() ? "" : separator) + e.name;
  return names;
}

Manifest build_manifest(const LayoutOptions& options, std::vector<UnmatchedRows>* unmatched) {
  LayoutOptions o = options;
  if (o.site.empty()) o.site = o.layout;
  const auto& layouts = layout_registry();
  const auto it = std::find_if(layouts.begin(), layouts.end(), [&](const LayoutEntry& e) { return e.name == o.layout; });
  if (it == layouts.end()) throw ConfigError("--layout '" + o.layout + "' is not one of " + layout_names());
  if (o.split != "train" && o.split != "val" && o.split != "test" && o.split != "external")
    throw ConfigError("--split '" + o.split + "' is not one of train, val, test, external");
  if (!o.patterns.empty() && !it->patterns) throw ConfigError("--pattern applies to --layout folder only");
  const auto only_for = [&](bool given, const std::string& flag, const std::vector<std::string>& layouts) {
    if (given && std::find(layouts.begin(), layouts.end(), o.layout) == layouts.end())
      throw ConfigError(flag + " applies to --layout " + layouts[0] + (layouts.size() > 1 ? " or " + layouts[1] : "") +
                        " only, not " + o.layout);
  };
  only_for(!o.release.empty(), "--release", {"brats2023"});
  only_for(!o.channels.empty(), "--channel", {"msd", "nnunet"});
  only_for(!o.id_column.empty() || !o.columns.empty() || !o.values.empty(), "--id-column, --column and --value",
           {"folder"});
  TableRows tables;
  Manifest m = it->read(o, tables);
  for (const Case& c : m.cases)
    if (c.split != "train" && c.split != "val" && c.split != "test" && c.split != "external")
      throw DataError("case '" + c.id + "': split '" + c.split + "' is not one of train, val, test, external");
  if (m.cases.empty())
    throw DataError("'" + o.root.string() + "': no " + o.layout + " cases found (see `fedglioma manifest --help`)");
  std::sort(m.cases.begin(), m.cases.end(), [](const Case& a, const Case& b) { return a.id < b.id; });
  for (std::size_t i = 0; i < m.cases.size(); ++i) {  // what load_manifest would refuse, refused before writing
    const std::string where = "case '" + m.cases[i].id + "' ('" + m.cases[i].images[0].string() + "')";
    check_file_name(m.cases[i].id, "id", where);
    check_file_name(m.cases[i].site, "site", where);
    if (i > 0 && m.cases[i].id == m.cases[i - 1].id)
      throw DataError(where + ": a second case of that id (the first: '" + m.cases[i - 1].images[0].string() + "')");
  }
  if (unmatched) *unmatched = tables.unmatched(m);
  return m;
}

}  // namespace fedglioma::data
