#pragma once

#include <filesystem>
#include <ostream>
#include <string>

namespace CLI {
class App;
}

namespace fedglioma::experiments {

/// Flags of `fedglioma export-model`.
struct ExportModelOptions {
  std::filesystem::path run;    ///< the run folder (config.resolved.json, model.pt)
  std::filesystem::path model;  ///< empty: RUN/model.pt (a site's model-<site>.pt, say)
  std::string format;           ///< safetensors | torchscript | onnx
  std::filesystem::path out;
};

/// `fedglioma export-model`: registers the subcommand and its flags, bound to `options`.
CLI::App* setup_export_model(CLI::App& app, ExportModelOptions& options);

/// Exports a run's model: safetensors written here (sim/state/model_export.h); torchscript and
/// onnx through the Python network (scripts/export_model.py, run by $FEDGLIOMA_PYTHON or
/// /usr/bin/python3 with Debian's python3-torch and python3-onnx). `out` is written whole or not
/// at all. Throws ConfigError for a missing run, model or Python, Error when the export fails.
void run_export_model(const ExportModelOptions& options, std::ostream& console);

}  // namespace fedglioma::experiments
