#include "experiments/cli_synth.h"

#include <CLI/CLI.hpp>

#include <iostream>

namespace fedglioma::experiments {

CLI::App* setup_synth(CLI::App& app, data::SynthOptions& options) {
  CLI::App* cmd = app.add_subcommand(
      "synth", "Write a synthetic multi-site glioma cohort (NIfTI volumes + manifest.json)");
  cmd->add_option("--out", options.out, "Folder to write the cohort into")->required();
  cmd->add_option("--sites", options.sites, "Training sites (site-a, site-b, ...)")->capture_default_str();
  cmd->add_option("--cases-per-site", options.cases_per_site, "Cases per training site")->capture_default_str();
  cmd->add_option("--external-cases", options.external_cases, "Cases of the held-out external site")
      ->capture_default_str();
  cmd->add_option("--size", options.size, "Edge of the cubic volumes, in voxels")->capture_default_str();
  cmd->add_option("--seed", options.seed, "Seed: the same seed gives byte-identical files")->capture_default_str();
  return cmd;
}

int run_synth(const data::SynthOptions& options) {
  const auto manifest = data::write_synthetic_cohort(options);
  std::cout << "wrote " << options.sites * options.cases_per_site + options.external_cases << " cases ("
            << options.sites << " site(s) + " << options.external_cases << " external) at " << options.size
            << "^3 voxels\nmanifest: " << manifest.string() << "\n";
  return 0;
}

}  // namespace fedglioma::experiments
