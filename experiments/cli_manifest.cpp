#include "experiments/cli_manifest.h"

#include <CLI/CLI.hpp>

#include <nlohmann/json.hpp>

#include <map>

#include "core/atomic_file.h"
#include "core/error.h"
#include "data/layouts.h"
#include "data/patients.h"

namespace fedglioma::experiments {

namespace fs = std::filesystem;

namespace {

// The manifest of --layout under --root, telling which label table rows match no case.
data::Manifest from_layout(const ManifestCliOptions& options, std::ostream& console) {
  if (options.layout.layout.empty() || options.layout.root.empty())
    throw ConfigError("manifest: --layout and --root go together");
  std::vector<data::UnmatchedRows> unmatched;
  data::Manifest manifest = data::build_manifest(options.layout, &unmatched);
  for (const auto& rows : unmatched) {
    std::string ids;
    for (std::size_t i = 0; i < rows.ids.size() && i < 5; ++i) ids += (i ? ", " : "") + rows.ids[i];
    if (rows.ids.size() > 5) ids += " and " + std::to_string(rows.ids.size() - 5) + " more";
    console << "manifest: " << rows.ids.size() << " row(s) of '" << rows.table.string()
            << "' match no case under --root, their labels unused: " << ids << "\n";
  }
  return manifest;
}

// --crosswalk-sites: each case's site from the crosswalks' site column (by its id or an alias),
// FeTS-style institutions as natural clients; the cases no row names keep theirs.
void assign_sites(data::Manifest& manifest, const data::Crosswalk& crosswalk, std::ostream& console) {
  if (crosswalk.sites.empty())
    throw ConfigError("--crosswalk-sites: no --crosswalk has a site column (\"Site No\" of the BraTS mapping tables)");
  std::size_t assigned = 0;
  for (data::Case& c : manifest.cases) {
    std::vector<std::string> names{c.id};
    names.insert(names.end(), c.aliases.begin(), c.aliases.end());
    for (const std::string& name : names)
      if (const auto it = crosswalk.sites.find(name); it != crosswalk.sites.end()) {
        c.site = it->second;
        ++assigned;
        break;
      }
  }
  console << "--crosswalk-sites: " << assigned << " of " << manifest.cases.size()
          << " case(s) given their institution's site; the others keep their dataset's\n";
}

// The --merge manifests joined, one record per patient; writes the merge report beside --out and
// prints each label conflict.
data::Manifest from_merge(const ManifestCliOptions& options, std::ostream& console) {
  std::vector<data::Manifest> inputs;
  for (const auto& path : options.merge) inputs.push_back(data::load_manifest(path));
  data::Crosswalk crosswalk;
  for (const auto& path : options.crosswalks) {
    const data::Crosswalk more = data::read_crosswalk(path);
    crosswalk.pairs.insert(crosswalk.pairs.end(), more.pairs.begin(), more.pairs.end());
    crosswalk.sites.insert(more.sites.begin(), more.sites.end());
  }
  data::MergeReport report;
  data::Manifest manifest = data::merge_manifests(inputs, crosswalk.pairs, &report);
  if (options.crosswalk_sites) assign_sites(manifest, crosswalk, console);
  nlohmann::json merged = nlohmann::json::array();
  for (const auto& p : report.merged)
    merged.push_back({{"kept", p.kept}, {"dropped", p.dropped}, {"label_conflicts", p.conflicts}});
  const fs::path report_path = options.out.parent_path() / (options.out.stem().string() + ".merge-report.json");
  write_file_atomic(report_path, nlohmann::json{{"inputs", [&] {
                                                    nlohmann::json list = nlohmann::json::array();
                                                    for (const auto& p : options.merge) list.push_back(p.string());
                                                    return list;
                                                  }()},
                                                 {"cases_in", report.cases_in},
                                                 {"cases_out", report.cases_out},
                                                 {"merged", merged}}
                                         .dump(2) + "\n");
  console << "merged " << report.cases_in << " records into " << report.cases_out << " patients ("
          << report.merged.size() << " found in more than one input); report: " << report_path.string() << "\n";
  for (const auto& p : report.merged)
    for (const auto& conflict : p.conflicts)
      console << "  conflict, kept " << p.kept << "'s value: " << conflict << "\n";
  return manifest;
}

// What the written manifest holds: cases and sites, then per marker the labelled and positive
// cases, then the cases with a mask.
void print_summary(const data::Manifest& manifest, const fs::path& out, std::ostream& console) {
  std::map<std::string, std::size_t> sites;
  for (const auto& c : manifest.cases) ++sites[c.site];
  console << "wrote " << manifest.cases.size() << " case(s) in " << sites.size() << " site(s) to "
          << out.string() << "\n";
  for (std::size_t m = 0; m < data::kMarkers.size(); ++m) {
    std::size_t known = 0, positive = 0;
    for (const auto& c : manifest.cases)
      if (const auto y = c.labels.binary(m)) {
        ++known;
        positive += static_cast<std::size_t>(*y);
      }
    console << "  " << data::kMarkers[m] << ": " << known << " labelled, " << positive << " positive\n";
  }
  std::size_t masks = 0;
  for (const auto& c : manifest.cases) masks += c.mask.has_value();
  console << "  mask: " << masks << " of " << manifest.cases.size() << "\n";
}

}  // namespace

CLI::App* setup_manifest(CLI::App& app, ManifestCliOptions& options) {
  CLI::App* cmd = app.add_subcommand(
      "manifest", "Build manifest.json from a dataset's layout (" + data::layout_names() + ") and its label tables");
  cmd->add_option("--layout", options.layout.layout, data::layout_names(" | "));
  cmd->add_option("--pattern", options.layout.patterns,
                  "folder layout: MODALITY=REGEX on paths relative to --root, group 1 = case id (repeatable)");
  cmd->add_option("--root", options.layout.root, "The dataset's top folder");
  cmd->add_option("--merge", options.merge, "Join these manifests, one record per patient (instead of --layout)")
      ->expected(1, -1);
  cmd->add_option("--crosswalk", options.crosswalks,
                  "With --merge: a BraTS mapping table (BraTS21-17_Mapping.csv, the 2023 one's CSV export) or a CSV "
                  "whose first two columns pair ids of one patient (repeatable)");
  cmd->add_flag("--crosswalk-sites", options.crosswalk_sites,
                "With --merge: each case's site from the mapping table's \"Site No\" (site-N): institutions as clients");
  cmd->add_option("--release", options.layout.release,
                  "brats2023: 2023 | 2024 | 2025 (default: the year the folders name; the labels differ)");
  cmd->add_option("--channel", options.layout.channels,
                  "msd, nnunet: MODALITY=INDEX, which image channel is t1, t1c, t2 or flair (repeatable)");
  cmd->add_option("--id-column", options.layout.id_column, "folder layout: the table's case id column (default: id)");
  cmd->add_option("--column", options.layout.columns,
                  "folder layout: FIELD=COLUMN, the table column of idh, codeletion_1p19q, mgmt, grade, site or split "
                  "(repeatable)");
  cmd->add_option("--value", options.layout.values,
                  "folder layout: FIELD:SPELLING=VALUE, how the table spells a value (idh:mutant=1; repeatable)");
  cmd->add_option("--labels", options.layout.labels, "Label or partition tables (repeatable)");
  cmd->add_option("--site", options.layout.site, "Site name (default: the layout name)");
  cmd->add_option("--split", options.layout.split, "Split of every case: train | val | test | external")
      ->capture_default_str();
  cmd->add_option("--out", options.out, "Manifest to write")->required();
  return cmd;
}

data::Manifest run_manifest(const ManifestCliOptions& options, std::ostream& console) {
  const bool layout = !options.layout.layout.empty() || !options.layout.root.empty();
  if (layout == !options.merge.empty())
    throw ConfigError("manifest: give either --layout with --root, or --merge with two or more manifests");
  data::Manifest manifest = layout ? from_layout(options, console) : from_merge(options, console);
  data::save_manifest(manifest, options.out);
  print_summary(manifest, options.out, console);
  return manifest;
}

}  // namespace fedglioma::experiments
