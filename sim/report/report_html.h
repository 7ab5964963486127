#pragma once

#include <filesystem>
#include <string>

namespace fedglioma::sim {

/// The `<meta name="generator">` content of every report: how `fedglioma report` tells a report it
/// may replace from any other file.
inline constexpr const char* kReportGenerator = "fedglioma report";

/// report.html of the finished run in `run_dir`: one self-contained page (inline CSS, every chart
/// an inline SVG image, no scripts or fonts from elsewhere) with the run, the selected and final
/// model, per-round curves, per-site metrics and fairness, the cross-site matrix, ROC and
/// reliability curves, time and memory. A small inline script checks that every image decoded
/// and sets `document.body.dataset.reportCheck` to "ok" or "failed: <what>". Throws ConfigError
/// when `run_dir` is not a finished run folder and IoError for a damaged JSON file (run_files.h).
std::string report_html(const std::filesystem::path& run_dir);

/// Whether the text `head` (the start of a file) is a report this function wrote.
bool is_report_html(const std::string& head);

}  // namespace fedglioma::sim
