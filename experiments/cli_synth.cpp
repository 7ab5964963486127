#include "experiments/cli_synth.h"

#include <CLI/CLI.hpp>

#include <iostream>

#include "core/owned_folder.h"
#include "core/remove_tree.h"

namespace fedglioma::experiments {
namespace {

// What synth writes: the manifest and one folder per site (site-a, site-b, ..., external).
const OwnedFolder::Kind kCohortFolder{"cohort", "--force", {"manifest.json", "site-*", "external"}};

}  // namespace

CLI::App* setup_synth(CLI::App& app, SynthCliOptions& options) {
  data::SynthOptions& cohort = options.cohort;
  CLI::App* cmd = app.add_subcommand(
      "synth", "Write a synthetic multi-site glioma cohort (NIfTI volumes + manifest.json)");
  cmd->add_option("--out", cohort.out, "Folder to write the cohort into")->required();
  cmd->add_option("--sites", cohort.sites, "Training sites (site-a, site-b, ...)")->capture_default_str();
  cmd->add_option("--cases-per-site", cohort.cases_per_site, "Cases per training site")->capture_default_str();
  cmd->add_option("--external-cases", cohort.external_cases, "Cases of the held-out external site")
      ->capture_default_str();
  cmd->add_option("--size", cohort.size, "Edge of the cubic volumes, in voxels")->capture_default_str();
  cmd->add_option("--seed", cohort.seed, "Seed: the same seed gives byte-identical files")->capture_default_str();
  cmd->add_flag("--force", options.force,
                "Write into an existing folder that synth did not make (refused if it holds a manifest or site folders)");
  return cmd;
}

int run_synth(const SynthCliOptions& options) {
  const data::SynthOptions& cohort = options.cohort;
  OwnedFolder folder = OwnedFolder::claim(cohort.out, kCohortFolder, options.force);
  std::filesystem::path manifest;
  try {
    manifest = data::write_synthetic_cohort(cohort);
  } catch (...) {
    // Nothing half-written stays: claim() made sure none of these names were the user's.
    std::error_code ec;
    if (folder.created()) {
      remove_tree(cohort.out, ec);
    } else {
      for (const auto& entry : std::filesystem::directory_iterator(cohort.out, ec)) {
        const std::string name = entry.path().filename().string();
        if (name == "manifest.json" || name == "external" || name.rfind("site-", 0) == 0)
          remove_tree(entry.path(), ec);
      }
      folder.unmark(kCohortFolder);
    }
    throw;
  }
  std::cout << "wrote " << cohort.sites * cohort.cases_per_site + cohort.external_cases << " cases ("
            << cohort.sites << " site(s) + " << cohort.external_cases << " external) at " << cohort.size
            << "^3 voxels\nmanifest: " << manifest.string() << "\n";
  return 0;
}

}  // namespace fedglioma::experiments
