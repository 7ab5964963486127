#include "experiments/cli_manifest.h"

#include <CLI/CLI.hpp>

#include <map>

namespace fedglioma::experiments {

CLI::App* setup_manifest(CLI::App& app, ManifestCliOptions& options) {
  CLI::App* cmd = app.add_subcommand(
      "manifest", "Build manifest.json from a public dataset's layout (brats2021, ucsf-pdgm, upenn-gbm, egd, tcga) "
                  "and its label tables");
  cmd->add_option("--layout", options.layout.layout, "brats2021 | ucsf-pdgm | upenn-gbm | egd | tcga")->required();
  cmd->add_option("--root", options.layout.root, "The dataset's top folder")->required();
  cmd->add_option("--labels", options.layout.labels, "Label or partition tables (repeatable)");
  cmd->add_option("--site", options.layout.site, "Site name (default: the layout name)");
  cmd->add_option("--split", options.layout.split, "Split of every case: train | val | test | external")
      ->capture_default_str();
  cmd->add_option("--out", options.out, "Manifest to write")->required();
  return cmd;
}

data::Manifest run_manifest(const ManifestCliOptions& options, std::ostream& console) {
  const data::Manifest manifest = data::build_manifest(options.layout);
  data::save_manifest(manifest, options.out);
  std::map<std::string, std::size_t> sites;
  for (const auto& c : manifest.cases) ++sites[c.site];
  console << "wrote " << manifest.cases.size() << " case(s) in " << sites.size() << " site(s) to "
          << options.out.string() << "\n";
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
  return manifest;
}

}  // namespace fedglioma::experiments
