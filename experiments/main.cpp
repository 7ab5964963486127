// fedglioma: the command-line entry point. It only wires the subcommands together; each lives in
// its own experiments/cli_*.cpp file.
#include <CLI/CLI.hpp>

#include <exception>
#include <iostream>
#include <string>

#include "core/error.h"
#include "core/numerics.h"
#include "experiments/cli_evaluate.h"
#include "experiments/cli_launch.h"
#include "experiments/cli_manifest.h"
#include "experiments/cli_predict.h"
#include "experiments/cli_export_model.h"
#include "experiments/cli_export_nnunet.h"
#include "experiments/cli_preprocess.h"
#include "experiments/cli_run.h"
#include "experiments/cli_reference.h"
#include "experiments/cli_report.h"
#include "experiments/cli_sweep.h"
#include "experiments/cli_synth.h"

namespace {

// One line for any failure: a message's own line breaks (LibTorch's, ITK's) become "; ".
int fail(const std::string& message) {
  std::string line;
  for (const char c : message) {
    if (c == '\n') {
      if (!line.empty() && line.back() != ' ') line += "; ";
    } else if (c != '\r') {
      line += c;
    }
  }
  while (!line.empty() && (line.back() == ' ' || line.back() == ';')) line.pop_back();
  std::cerr << "fedglioma: error: " << line << "\n";
  return 1;
}

// A command-line usage error: one line and exit status 2 (--help and --version print and exit 0).
int usage_error(const CLI::App& app, const CLI::ParseError& e, int argc, char** argv) {
  if (e.get_exit_code() == static_cast<int>(CLI::ExitCodes::Success)) return app.exit(e);
  std::string names;
  bool known = false;
  for (const CLI::App* sub : app.get_subcommands([](const CLI::App*) { return true; })) {
    names += (names.empty() ? "" : ", ") + sub->get_name();
    known = known || (argc > 1 && sub->get_name() == argv[1]);
  }
  std::string message = e.what();
  if (argc > 1 && argv[1][0] != '-' && !known)
    message = std::string("unknown subcommand '") + argv[1] + "' (expected one of: " + names + ")";
  else if (argc == 1)
    message = "give a subcommand: " + names;
  std::cerr << "fedglioma: usage error: " << message << "; see fedglioma --help\n";
  return 2;
}

int run_subcommand(int argc, char** argv) {
  using namespace fedglioma::experiments;
  CLI::App app{"fedglioma: federated learning simulation for multi-task glioma MRI (segmentation + IDH, "
               "1p/19q, MGMT, grade)"};
  app.set_version_flag("--version", std::string("fedglioma ") + FEDGLIOMA_VERSION);
  app.require_subcommand(1);

  SynthCliOptions synth;
  RunOptions run;
  PreprocessCliOptions preprocess;
  ManifestCliOptions manifest;
  CLI::App* synth_cmd = setup_synth(app, synth);
  CLI::App* manifest_cmd = setup_manifest(app, manifest);
  CLI::App* preprocess_cmd = setup_preprocess(app, preprocess);
  ExportNnunetOptions export_nnunet;
  CLI::App* export_nnunet_cmd = setup_export_nnunet(app, export_nnunet);
  CLI::App* run_cmd = setup_run(app, run);
  SweepOptions sweep;
  CLI::App* sweep_cmd = setup_sweep(app, sweep);
  PredictOptions predict;
  CLI::App* predict_cmd = setup_predict(app, predict);
  ExportModelOptions export_model;
  CLI::App* export_model_cmd = setup_export_model(app, export_model);
  EvaluateOptions evaluate;
  CLI::App* evaluate_cmd = setup_evaluate(app, evaluate);
  ReportOptions report;
  CLI::App* report_cmd = setup_report(app, report);
  LaunchOptions launch;
  CLI::App* launch_cmd = setup_launch(app, launch);
  const ReferenceCommands reference = setup_reference(app);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return usage_error(app, e, argc, argv);
  }
  if (synth_cmd->parsed()) return run_synth(synth);
  if (manifest_cmd->parsed()) run_manifest(manifest, std::cout);
  if (preprocess_cmd->parsed()) run_preprocess(preprocess, std::cout);
  if (run_cmd->parsed()) run_run(run, std::cout);
  if (sweep_cmd->parsed()) run_sweep(sweep, std::cout);
  if (predict_cmd->parsed()) run_predict(predict, std::cout);
  if (export_model_cmd->parsed()) run_export_model(export_model, std::cout);
  if (evaluate_cmd->parsed()) run_evaluate(evaluate, std::cout);
  if (report_cmd->parsed()) run_report(report, std::cout);
  if (export_nnunet_cmd->parsed()) run_export_nnunet(export_nnunet, std::cout);
  if (launch_cmd->parsed()) return run_launch(launch, std::cout);
  run_reference(reference, std::cout);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  // Before anything touches torch: ATen and oneDNN pick their CPU kernels once, at first use.
  fedglioma::init_process_numerics();
  // The one guard: whatever fails, the user reads one line and the exit status is 1, never a
  // signal or a trace. Nothing is cleaned up here; subcommands leave no partial output themselves.
  try {
    return run_subcommand(argc, argv);
  } catch (const fedglioma::RestartRequired& e) {
    try {
      std::cout.flush();
      fedglioma::restart_with_cpu_numerics(e.mode(), argv);  // thrown before anything was written
    } catch (const std::exception& again) {
      return fail(again.what());
    }
  } catch (const std::exception& e) {
    return fail(fedglioma::message_of(e));  // LibTorch's errors without their C++ stack
  } catch (...) {
    return fail("an unknown exception escaped (please report it)");
  }
  return 1;
}
