#include "sim/report/report_html.h"

#include "sim/report/markup.h"
#include "sim/report/report_sections.h"
#include "sim/report/run_files.h"

namespace fedglioma::sim {
namespace {

// Set before anything else runs, so that the check at the end sees any script error.
constexpr const char* kErrorHook =
    "<script>window.reportErrors=[];window.onerror=function(m){window.reportErrors.push(String(m));};</script>\n";

// At the end of the page: once everything has loaded, every image must have decoded.
constexpr const char* kCheck = R"(<script>
window.addEventListener("load", function () {
  var bad = [];
  for (var i = 0; i < document.images.length; i++) {
    var img = document.images[i];
    if (!(img.complete && img.naturalWidth > 0)) bad.push(img.alt || "image " + (i + 1));
  }
  var what = bad.length ? "images not decoded: " + bad.join(", ") : "";
  if (window.reportErrors.length) what += (what ? "; " : "") + "script error: " + window.reportErrors.join("; ");
  document.body.dataset.reportCheck = what ? "failed: " + what : "ok";
});
</script>
)";

constexpr const char* kStyle = R"(<style>
:root { --ink: #1c2430; --muted: #5c6878; --line: #dde2e8; --head: #f1f4f8; }
* { box-sizing: border-box; }
body { margin: 0; background: #eef1f5; color: var(--ink);
       font: 14px/1.45 -apple-system, "Segoe UI", "Helvetica Neue", Helvetica, Arial, sans-serif; }
main { max-width: 1180px; margin: 0 auto; padding: 28px 36px 48px; background: #fff; }
h1 { font-size: 23px; margin: 0 0 2px; }
.lede { color: var(--muted); margin: 0 0 14px; font-size: 15px; }
h2 { font-size: 18px; margin: 34px 0 10px; padding-bottom: 5px; border-bottom: 2px solid var(--line); }
h3 { font-size: 14.5px; margin: 20px 0 8px; }
nav { font-size: 13px; color: var(--muted); margin-bottom: 8px; }
nav a { color: var(--muted); margin-right: 12px; }
table { border-collapse: collapse; font-size: 13px; margin: 6px 0 12px; }
th, td { padding: 5px 10px; border-bottom: 1px solid var(--line); text-align: left; vertical-align: top; }
thead th { background: var(--head); font-weight: 600; border-bottom: 2px solid #c9d0d9; }
table.facts th { background: none; font-weight: 600; color: var(--muted); white-space: nowrap; }
td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
.sub { display: block; color: var(--muted); font-size: 11.5px; font-weight: normal; }
td.diverged { color: #a33; }
code, pre { font: 12.5px/1.4 ui-monospace, "SFMono-Regular", Menlo, Consolas, monospace; }
pre { background: var(--head); padding: 8px 12px; border-radius: 4px; display: inline-block; }
.absent { color: var(--muted); font-style: italic; }
.note { color: var(--muted); font-size: 12.5px; }
.warnings li { color: #8a5300; }
.grid { display: grid; grid-template-columns: repeat(2, minmax(0, 1fr)); gap: 18px 22px; }
.grid4 { grid-template-columns: repeat(4, minmax(0, 1fr)); gap: 12px; }
figure { margin: 0; break-inside: avoid; }
figure img { display: block; max-width: 100%; height: auto; }
figcaption { font-size: 12px; color: var(--muted); margin-top: 4px; }
@media print { body { background: #fff; } main { padding: 0; max-width: none; } nav { display: none; } }
</style>
)";

std::string head(const RunFiles& run) {
  return std::string("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n") + kErrorHook +
         "<meta charset=\"utf-8\">\n<meta name=\"generator\" content=\"" + kReportGenerator +
         "\">\n<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>fedglioma report: " +
         escape_xml(run.name) + "</title>\n" + kStyle + "</head>\n";
}

// The title, one line of what the run was, and the sections' table of contents.
std::string page_top(const RunFiles& run) {
  auto part = [&](std::initializer_list<const char*> keys, const std::string& before, const std::string& after) {
    const std::string text = text_at(run.config, keys);
    return text.empty() ? std::string() : " \xC2\xB7 " + before + text + after;
  };
  std::string lede = text_at(run.config, {"federation", "strategy", "name"});
  lede = (lede.empty() ? "strategy not recorded" : lede) + part({"federation", "mode"}, "", "") + " \xC2\xB7 " +
         text_at(run.summary, {"rounds"}) + " rounds" + part({"runtime", "seed"}, "seed ", "");
  return "<h1>" + escape_xml(run.name) + "</h1>\n<p class=\"lede\">fedglioma run report \xC2\xB7 " + escape_xml(lede) +
         "</p>\n<nav><a href=\"#run\">Run</a><a href=\"#selection\">Selected model</a><a href=\"#curves\">Curves</a>"
         "<a href=\"#sites\">Sites</a><a href=\"#cross-site\">Cross-site</a><a href=\"#roc\">ROC and calibration</a>"
         "<a href=\"#timing\">Time</a><a href=\"#regenerate\">Regenerate</a></nav>\n";
}

}  // namespace

std::string report_html(const std::filesystem::path& run_dir) {
  const RunFiles run = read_run_files(run_dir);
  return head(run) + "<body>\n<main>\n" + page_top(run) + run_section(run) + selection_section(run) +
         round_curves_section(run) + sites_section(run) + cross_site_section(run) + roc_section(run) +
         timing_section(run) + regenerate_section(run) + "</main>\n" + kCheck + "</body>\n</html>\n";
}

bool is_report_html(const std::string& head) {
  return head.find(std::string("<meta name=\"generator\" content=\"") + kReportGenerator + "\">") != std::string::npos;
}

}  // namespace fedglioma::sim
