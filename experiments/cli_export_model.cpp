#include "experiments/cli_export_model.h"

#include <CLI/CLI.hpp>

#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <vector>

#include "core/error.h"
#include "experiments/child_process.h"
#include "experiments/config_json.h"
#include "sim/state/model_export.h"

namespace fedglioma::experiments {
namespace {

namespace fs = std::filesystem;

// The interpreter for the Python exports: $FEDGLIOMA_PYTHON (a pip torch's), else Debian's.
std::string python() {
  const char* chosen = std::getenv("FEDGLIOMA_PYTHON");
  return chosen && *chosen ? chosen : "/usr/bin/python3";
}

// Runs `argv` (its output is the user's to see) and waits; Error naming what failed otherwise.
void run_python(const std::vector<std::string>& argv, const std::string& what) {
  std::vector<char*> args;
  for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  const pid_t parent = ::getpid();
  const pid_t pid = ::fork();
  if (pid < 0) throw Error("export-model: cannot start " + argv[0]);
  if (pid == 0) {  // only async-signal-safe calls until exec
    ::prctl(PR_SET_PDEATHSIG, SIGTERM);  // no export outlives a killed fedglioma
    if (::getppid() != parent) ::_exit(127);
    ::execvp(args[0], args.data());  // $FEDGLIOMA_PYTHON may be a name on PATH
    ::_exit(127);
  }
  int status = 0;
  pid_t waited;
  while ((waited = ::waitpid(pid, &status, 0)) < 0 && errno == EINTR) {
  }
  if (waited != pid) throw Error("export-model: lost track of the " + what + " export (waitpid failed)");
  if (WIFEXITED(status) && WEXITSTATUS(status) == 127)
    throw ConfigError("export-model: cannot run '" + argv[0] + "' (" + what + " needs Python 3 with torch" +
                      std::string(what == "onnx" ? " and onnx" : "") +
                      ": apt install python3-torch python3-onnx, or set FEDGLIOMA_PYTHON)");
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
    throw Error("export-model: the " + what + " export " + describe_exit(status) + " (its message is above)");
}

}  // namespace

CLI::App* setup_export_model(CLI::App& app, ExportModelOptions& options) {
  CLI::App* cmd = app.add_subcommand("export-model", "Export a run's model: safetensors, TorchScript or ONNX");
  cmd->add_option("run", options.run, "The run folder")->required();
  cmd->add_option("--format", options.format, "safetensors | torchscript | onnx")
      ->required()
      ->check(CLI::IsMember({"safetensors", "torchscript", "onnx"}));
  cmd->add_option("--out", options.out, "The file to write")->required();
  cmd->add_option("--model", options.model, "The weights (default: RUN/model.pt; a site's model-<site>.pt)");
  return cmd;
}

void run_export_model(const ExportModelOptions& options, std::ostream& console) {
  const fs::path config = options.run / "config.resolved.json";
  const fs::path model = options.model.empty() ? options.run / "model.pt" : options.model;
  if (!fs::exists(config)) throw ConfigError("'" + config.string() + "' does not exist: is '" + options.run.string() + "' a run folder?");
  if (!fs::exists(model)) throw ConfigError("'" + model.string() + "' does not exist (a finished run writes model.pt)");
  const LoadedConfig loaded = load_config(config, {});
  if (options.format == "safetensors") {
    sim::export_safetensors(loaded.config.model, loaded.resolved_json, model, options.out);
  } else {
    if (loaded.config.model.name != "multitask_unet3d" && loaded.config.model.name != "torchscript")
      throw ConfigError("export-model --format " + options.format + ": model.name is '" + loaded.config.model.name +
                        "'; Python builds multitask_unet3d and loads a torchscript network, nothing else");
    const fs::path script = fs::path(FEDGLIOMA_SOURCE_DIR) / "scripts" / "export_model.py";
    if (!fs::exists(script)) throw ConfigError("export-model: '" + script.string() + "' is missing from the source tree");
    run_python({python(), script.string(), "--run", options.run.string(), "--model", model.string(), "--format",
                options.format, "--out", options.out.string()},
               options.format);
  }
  console << "exported " << model.string() << " as " << options.format << " to " << options.out.string() << "\n";
}

}  // namespace fedglioma::experiments
