// fedglioma: the command-line entry point. It only wires the subcommands together; each lives in
// its own experiments/cli_*.cpp file.
#include <CLI/CLI.hpp>

#include <exception>
#include <iostream>

#include "core/error.h"
#include "core/numerics.h"
#include "experiments/cli_manifest.h"
#include "experiments/cli_predict.h"
#include "experiments/cli_preprocess.h"
#include "experiments/cli_run.h"
#include "experiments/cli_sweep.h"
#include "experiments/cli_synth.h"

int main(int argc, char** argv) {
  // Before anything touches torch: ATen and oneDNN pick their CPU kernels once, at first use.
  fedglioma::init_process_numerics();
  using namespace fedglioma::experiments;
  CLI::App app{"fedglioma: federated learning simulation for multi-task glioma MRI (segmentation + IDH, "
               "1p/19q, MGMT, grade)"};
  app.set_version_flag("--version", std::string("fedglioma ") + FEDGLIOMA_VERSION);
  app.require_subcommand(1);

  fedglioma::data::SynthOptions synth;
  RunOptions run;
  PreprocessCliOptions preprocess;
  ManifestCliOptions manifest;
  CLI::App* synth_cmd = setup_synth(app, synth);
  CLI::App* manifest_cmd = setup_manifest(app, manifest);
  CLI::App* preprocess_cmd = setup_preprocess(app, preprocess);
  CLI::App* run_cmd = setup_run(app, run);
  SweepOptions sweep;
  CLI::App* sweep_cmd = setup_sweep(app, sweep);
  PredictOptions predict;
  CLI::App* predict_cmd = setup_predict(app, predict);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  try {
    if (synth_cmd->parsed()) return run_synth(synth);
    if (manifest_cmd->parsed()) {
      run_manifest(manifest, std::cout);
      return 0;
    }
    if (preprocess_cmd->parsed()) {
      run_preprocess(preprocess, std::cout);
      return 0;
    }
    if (run_cmd->parsed()) {
      run_run(run, std::cout);
      return 0;
    }
    if (sweep_cmd->parsed()) {
      run_sweep(sweep, std::cout);
      return 0;
    }
    if (predict_cmd->parsed()) {
      run_predict(predict, std::cout);
      return 0;
    }
  } catch (const fedglioma::RestartRequired& e) {
    try {
      std::cout.flush();
      fedglioma::restart_with_cpu_numerics(e.mode(), argv);  // thrown before anything was written
    } catch (const fedglioma::Error& again) {
      std::cerr << "fedglioma: error: " << again.what() << "\n";
      return 1;
    }
  } catch (const fedglioma::Error& e) {
    std::cerr << "fedglioma: error: " << e.what() << "\n";
    return 1;
  } catch (const std::exception& e) {
    // Anything else is a bug or an environment failure (out of memory); still no trace dump.
    std::cerr << "fedglioma: internal error: " << e.what() << "\n";
    return 2;
  }
  return 0;
}
