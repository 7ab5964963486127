#pragma once

#include <filesystem>
#include <memory>
#include <ostream>

#include "sim/record/reporters.h"

namespace fedglioma::sim {

/// report.html (sim/report/report_html.h), rendered from the run folder's files when the run
/// ends, after summary.json: a run killed in between has none, which `fedglioma report RUN_DIR`
/// writes. A report that cannot be rendered or written is a warning on `console` (the run's
/// results are complete without it), naming the reason and that command.
std::unique_ptr<Reporter> report_reporter(std::filesystem::path run_dir, std::ostream& console);

}  // namespace fedglioma::sim
