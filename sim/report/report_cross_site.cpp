// Section 5 of the report: cross_site.csv as a heatmap.
#include <algorithm>

#include "sim/report/markup.h"
#include "sim/report/report_cells.h"
#include "sim/report/report_sections.h"
#include "sim/report/svg_plot.h"

namespace fedglioma::sim {
namespace {

// `name` moved to the front (`front`) or the back of `names`, when it is there.
void move_name(std::vector<std::string>& names, const std::string& name, bool front) {
  const auto it = std::find(names.begin(), names.end(), name);
  if (it == names.end()) return;
  names.erase(it);
  names.insert(front ? names.begin() : names.end(), name);
}

std::size_t index_of(std::vector<std::string>& names, const std::string& name) {
  const auto it = std::find(names.begin(), names.end(), name);
  if (it != names.end()) return static_cast<std::size_t>(it - names.begin());
  names.push_back(name);
  return names.size() - 1;
}

}  // namespace

std::string cross_site_section(const RunFiles& run) {
  const std::string title = "5. Cross-site matrix";
  if (!run.cross_site) return section("cross-site", title, absent_file_note(run, "cross_site.csv", ""));
  const data::CsvTable& table = *run.cross_site;
  for (const char* column : {"model", "data", "n", "dice_mean"})
    if (!table.has_column(column))
      return section("cross-site", title, absent_note(std::string("cross_site.csv: has no column ") + column));
  const std::size_t model = table.column("model"), data = table.column("data"), n = table.column("n"),
                    dice = table.column("dice_mean");
  Heatmap map;
  for (const auto& row : table.rows()) {  // rows and columns in the order the file first names them
    index_of(map.rows, row[model]);
    index_of(map.columns, row[data]);
  }
  move_name(map.rows, "global", true);
  move_name(map.columns, "external", false);
  map.values.assign(map.rows.size(), std::vector<std::optional<double>>(map.columns.size()));
  map.counts.assign(map.rows.size(), std::vector<std::optional<long>>(map.columns.size()));
  for (const auto& row : table.rows()) {
    const std::size_t r = index_of(map.rows, row[model]), c = index_of(map.columns, row[data]);
    map.values[r][c] = cell_number(row[dice]);
    if (const auto count = cell_number(row[n])) map.counts[r][c] = static_cast<long>(*count);
  }
  map.title = "Mean Dice: each model on each site's cases";
  map.note = std::to_string(map.rows.size()) + " models x " + std::to_string(map.columns.size()) + " case sets";
  map.row_title = "model";
  map.column_title = "cases (validation of site, or external)";
  const std::string body = figure(heatmap_svg(map), "cross-site mean Dice",
                                  "Rows: each site's own final model (and the global one); columns: the validation "
                                  "cases of each site, and the external set. n: cases in the cell. Hatched: no value "
                                  "(not evaluated, or the model diverged).");
  return section("cross-site", title, body);
}

}  // namespace fedglioma::sim
