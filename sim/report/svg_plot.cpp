#include "sim/report/svg_plot.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>

#include "sim/report/markup.h"
#include "sim/report/svg_canvas.h"

namespace fedglioma::sim {
namespace {

constexpr double kTitleFont = 13;
constexpr double kFont = 11;
constexpr const char* kAxis = "#777";
constexpr const char* kGrid = "#e8e8e8";
constexpr const char* kMuted = "#666";

// The plot area in pixels and the data range it shows.
struct Frame {
  double left, top, width, height;
  double x0, x1, y0, y1;
  double px(double x) const { return left + (x1 > x0 ? (x - x0) / (x1 - x0) : 0.5) * width; }
  double py(double y) const {
    return top + height - (y1 > y0 ? (std::clamp(y, y0, y1) - y0) / (y1 - y0) : 0.5) * height;
  }
};

bool finite(const std::optional<double>& v) { return v && std::isfinite(*v); }

// The title and the note under it; returns where the plot may start.
double draw_heading(SvgCanvas& svg, const std::string& title, const std::string& note, double x) {
  svg.text(x, 18, title, kTitleFont, "start", "#111", true);
  if (note.empty()) return 32;
  svg.text(x, 34, note, kFont, "start", kMuted);
  return 46;
}

// Horizontal grid lines and labels at `ticks`, and the rotated axis label.
void draw_y_axis(SvgCanvas& svg, const Frame& f, const std::vector<double>& ticks, const std::string& label) {
  const double step = ticks.size() > 1 ? ticks[1] - ticks[0] : 1;
  for (const double t : ticks) {
    const double y = f.py(t);
    svg.line(f.left, y, f.left + f.width, y, kGrid);
    svg.line(f.left - 4, y, f.left, y, kAxis);
    svg.text(f.left - 7, y + 4, tick_label(t, step), kFont, "end", "#333");
  }
  svg.line(f.left, f.top, f.left, f.top + f.height, kAxis);
  svg.text(14, f.top + f.height / 2, label, kFont, "middle", "#333", false, -90);
}

// Tick marks and labels along the bottom, and the axis label under them.
void draw_x_axis(SvgCanvas& svg, const Frame& f, const std::vector<double>& ticks, const std::string& label) {
  const double step = ticks.size() > 1 ? ticks[1] - ticks[0] : 1;
  const double bottom = f.top + f.height;
  svg.line(f.left, bottom, f.left + f.width, bottom, kAxis);
  for (const double t : ticks) {
    svg.line(f.px(t), bottom, f.px(t), bottom + 4, kAxis);
    svg.text(f.px(t), bottom + 16, tick_label(t, step), kFont, "middle", "#333");
  }
  svg.text(f.left + f.width / 2, bottom + 32, label, kFont, "middle", "#333");
}

// The y range: the chart's fixed bounds, and the data's where it has none, widened to round ticks.
std::pair<double, double> y_range(const LineChart& chart) {
  double lo = INFINITY, hi = -INFINITY;
  for (const LineSeries& s : chart.series)
    for (const auto* values : {&s.y, &s.lower, &s.upper})
      for (const auto& v : *values)
        if (finite(v)) lo = std::min(lo, *v), hi = std::max(hi, *v);
  if (chart.y_min) lo = *chart.y_min;
  if (chart.y_max) hi = *chart.y_max;
  if (!(lo <= hi)) return {chart.y_min.value_or(0), chart.y_max.value_or(chart.y_min.value_or(0) + 1)};
  if (hi - lo < 1e-12) {
    const double pad = std::max(std::abs(lo) * 0.1, 0.5);
    if (!chart.y_min) lo -= pad;
    if (!chart.y_max) hi += pad;
  }
  const std::vector<double> ticks = nice_ticks(lo, hi, 5);
  const double step = ticks.size() > 1 ? ticks[1] - ticks[0] : hi - lo;
  return {chart.y_min ? lo : std::floor(lo / step + 1e-9) * step,
          chart.y_max ? hi : std::ceil(hi / step - 1e-9) * step};
}

std::pair<double, double> x_range(const LineChart& chart) {
  double lo = INFINITY, hi = -INFINITY;
  for (const LineSeries& s : chart.series)
    for (const double x : s.x) lo = std::min(lo, x), hi = std::max(hi, x);
  if (chart.marker_x) lo = std::min(lo, *chart.marker_x), hi = std::max(hi, *chart.marker_x);
  if (!(lo <= hi)) return {0, 1};
  if (hi - lo < 1e-12) return {lo - 1, hi + 1};
  return {lo, hi};
}

// The band of `s`: one polygon per run of points that have both bounds; a lone point gets a bar.
void draw_band(SvgCanvas& svg, const Frame& f, const LineSeries& s, const std::string& colour) {
  if (s.lower.size() != s.x.size() || s.upper.size() != s.x.size()) return;
  std::size_t i = 0;
  while (i < s.x.size()) {
    if (!finite(s.lower[i]) || !finite(s.upper[i])) {
      ++i;
      continue;
    }
    std::size_t end = i;
    while (end < s.x.size() && finite(s.lower[end]) && finite(s.upper[end])) ++end;
    if (end - i == 1) {
      const double top = f.py(*s.upper[i]);
      svg.rect(f.px(s.x[i]) - 3, top, 6, f.py(*s.lower[i]) - top, colour, "fill-opacity=\"0.25\"");
    } else {
      SvgCanvas::Points points;
      for (std::size_t k = i; k < end; ++k) points.emplace_back(f.px(s.x[k]), f.py(*s.upper[k]));
      for (std::size_t k = end; k-- > i;) points.emplace_back(f.px(s.x[k]), f.py(*s.lower[k]));
      svg.polygon(points, colour, 0.15);
    }
    i = end;
  }
}

// The line of `s`, broken at missing values, with a dot at each point when there are few.
void draw_line(SvgCanvas& svg, const Frame& f, const LineSeries& s, const std::string& colour) {
  const std::size_t n = std::min(s.x.size(), s.y.size());
  SvgCanvas::Points run;
  const auto flush = [&] {
    if (run.size() > 1) svg.polyline(run, colour, 2, s.dashed ? "6 4" : "");
    if (run.size() == 1 || (run.size() > 1 && n <= 40))
      for (const auto& [x, y] : run) svg.circle(x, y, 3, colour);
    run.clear();
  };
  for (std::size_t i = 0; i < n; ++i) {
    if (finite(s.y[i]))
      run.emplace_back(f.px(s.x[i]), f.py(*s.y[i]));
    else
      flush();
  }
  flush();
}

void draw_marker(SvgCanvas& svg, const Frame& f, double x, const std::string& label) {
  const double px = f.px(x);
  svg.line(px, f.top, px, f.top + f.height, "#444", 1.2, "4 3");
  const bool right = px > f.left + f.width * 0.7;
  svg.text(right ? px - 4 : px + 4, f.top + 12, label, 10, right ? "end" : "start", "#444", false, 0, true);
}

bool has_values(const std::vector<LineSeries>& series) {
  for (const LineSeries& s : series)
    for (const auto& v : s.y)
      if (finite(v)) return true;
  return false;
}

// Viridis at `v` in [0, 1] as "#rrggbb", and whether text on it should be white.
std::pair<std::string, bool> viridis(double v) {
  static const std::array<std::array<double, 3>, 9> kStops = {{{68, 1, 84},
                                                               {71, 44, 122},
                                                               {59, 81, 139},
                                                               {44, 113, 142},
                                                               {33, 144, 141},
                                                               {39, 173, 129},
                                                               {92, 200, 99},
                                                               {170, 220, 50},
                                                               {253, 231, 37}}};
  const double t = std::clamp(v, 0.0, 1.0) * (kStops.size() - 1);
  const std::size_t i = std::min<std::size_t>(static_cast<std::size_t>(t), kStops.size() - 2);
  std::array<int, 3> rgb{};
  for (int k = 0; k < 3; ++k)
    rgb[k] = static_cast<int>(std::lround(kStops[i][k] + (kStops[i + 1][k] - kStops[i][k]) * (t - i)));
  char hex[8];
  std::snprintf(hex, sizeof hex, "#%02x%02x%02x", rgb[0], rgb[1], rgb[2]);
  return {hex, 0.299 * rgb[0] + 0.587 * rgb[1] + 0.114 * rgb[2] < 140};
}

// The gradient of the colour bar and the hatch of missing cells.
std::string heatmap_defs() {
  std::string defs = "<defs><linearGradient id=\"scale\" x1=\"0\" y1=\"1\" x2=\"0\" y2=\"0\">";
  for (int i = 0; i <= 8; ++i)
    defs += "<stop offset=\"" + svg_number(i * 12.5) + "%\" stop-color=\"" + viridis(i / 8.0).first + "\"/>";
  return defs +
         "</linearGradient><pattern id=\"hatch\" width=\"6\" height=\"6\" patternUnits=\"userSpaceOnUse\" "
         "patternTransform=\"rotate(45)\"><rect width=\"6\" height=\"6\" fill=\"#eeeeee\"/>"
         "<line x1=\"0\" y1=\"0\" x2=\"0\" y2=\"6\" stroke=\"#bbbbbb\" stroke-width=\"2\"/></pattern></defs>";
}

constexpr double kCellWidth = 66, kCellHeight = 42, kLabelChars = 28;

// grid[r][c], or no value where the grid is ragged.
template <class T>
std::optional<T> cell_at(const std::vector<std::vector<std::optional<T>>>& grid, std::size_t r, std::size_t c) {
  if (r >= grid.size() || c >= grid[r].size() || !grid[r][c]) return std::nullopt;
  return *grid[r][c];
}

// One cell: its colour, value and n, or the hatch when it has no value.
void draw_cell(SvgCanvas& svg, double x, double y, std::optional<double> value, std::optional<long> n) {
  const double cx = x + kCellWidth / 2;
  if (finite(value)) {
    const auto [colour, white] = viridis(*value);
    svg.rect(x, y, kCellWidth, kCellHeight, colour, "stroke=\"white\" stroke-width=\"1.5\"");
    svg.text(cx, y + 19, fixed(*value, 3), 12, "middle", white ? "white" : "#111", true);
    if (n) svg.text(cx, y + 33, "n=" + std::to_string(*n), 9.5, "middle", white ? "#e8e8e8" : "#333");
    return;
  }
  svg.rect(x, y, kCellWidth, kCellHeight, "url(#hatch)", "stroke=\"white\" stroke-width=\"1.5\"");
  svg.text(cx, y + (n ? 19 : 25), "n/a", 11, "middle", "#555");
  if (n) svg.text(cx, y + 33, "n=" + std::to_string(*n), 9.5, "middle", "#555");
}

// The colour bar from 0 to 1 beside the grid, from `top`; returns its bottom.
double draw_scale(SvgCanvas& svg, double x, double top, double grid_height) {
  const double height = std::max(grid_height, 96.0);
  svg.rect(x, top, 12, height, "url(#scale)", "stroke=\"#999\" stroke-width=\"0.5\"");
  for (const double t : {0.0, 0.5, 1.0}) {
    const double y = top + height * (1 - t);
    svg.line(x + 12, y, x + 15, y, kAxis);
    svg.text(x + 18, y + 4, tick_label(t, 0.5), 10, "start", "#333");
  }
  return top + height;
}

}  // namespace

std::string line_chart_svg(const LineChart& chart) {
  constexpr double kWidth = 560, kLeft = 60, kPlotHeight = 220;
  SvgCanvas svg;
  const double top = draw_heading(svg, chart.title, chart.note, 8);
  const auto [x0, x1] = x_range(chart);
  const auto [y0, y1] = y_range(chart);
  const double pad = (x1 - x0) * 0.03;  // points on the first and last round stay clear of the frame
  const Frame f{kLeft, top, kWidth - kLeft - 18, kPlotHeight, x0 - pad, x1 + pad, y0, y1};
  draw_y_axis(svg, f, nice_ticks(y0, y1, 5), chart.y_label);
  draw_x_axis(svg, f, nice_ticks(x0, x1, 8, true), chart.x_label);
  if (!has_values(chart.series))
    svg.text(f.left + f.width / 2, f.top + f.height / 2, "no values to show", 12, "middle", kMuted);
  if (chart.marker_x) draw_marker(svg, f, *chart.marker_x, chart.marker_label);
  std::vector<LegendEntry> legend;
  for (std::size_t i = 0; i < chart.series.size(); ++i) {
    draw_band(svg, f, chart.series[i], series_colour(i));
    legend.push_back({chart.series[i].name, series_colour(i), chart.series[i].dashed, !chart.series[i].lower.empty()});
  }
  for (std::size_t i = 0; i < chart.series.size(); ++i) draw_line(svg, f, chart.series[i], series_colour(i));
  const double legend_top = f.top + f.height + 42;
  const double legend_height = draw_legend(svg, f.left, legend_top, f.width, legend);
  return svg.document(kWidth, legend_top + legend_height + 8);
}

std::string curve_plot_svg(const CurvePlot& plot) {
  constexpr double kLeft = 52, kSide = 232, kWidth = kLeft + kSide + 16;
  SvgCanvas svg;
  const double top = draw_heading(svg, plot.title, plot.note, 8);
  const Frame f{kLeft, top, kSide, kSide, 0, 1, 0, 1};
  const std::vector<double> ticks = nice_ticks(0, 1, 5);
  draw_y_axis(svg, f, ticks, plot.y_label);
  draw_x_axis(svg, f, ticks, plot.x_label);
  svg.line(f.px(0), f.py(0), f.px(1), f.py(1), "#999", 1, "4 4");
  std::vector<LegendEntry> legend;
  for (std::size_t c = 0; c < plot.curves.size(); ++c) {
    const Curve& curve = plot.curves[c];
    const std::string colour = series_colour(c);
    SvgCanvas::Points points;
    for (std::size_t i = 0; i < std::min(curve.x.size(), curve.y.size()); ++i)
      points.emplace_back(f.px(std::clamp(curve.x[i], 0.0, 1.0)), f.py(curve.y[i]));
    if (points.size() > 1) svg.polyline(points, colour, 2, curve.dashed ? "6 4" : "");
    for (std::size_t i = 0; i < points.size(); ++i) {
      if (curve.markers || points.size() == 1) svg.circle(points[i].first, points[i].second, 3, colour);
      if (i < curve.counts.size())  // first curve's counts above its dots, the second's below
        svg.text(points[i].first, points[i].second + (c % 2 ? 14 : -6), std::to_string(curve.counts[i]), 9, "middle",
                 colour);
    }
    legend.push_back({curve.name, colour, curve.dashed, false});
  }
  if (plot.curves.empty()) svg.text(f.left + f.width / 2, f.top + f.height / 2, "no curve", 12, "middle", kMuted);
  const double legend_top = f.top + f.height + 42;
  const double legend_height = draw_legend(svg, 8, legend_top, kWidth - 16, legend);
  return svg.document(kWidth, legend_top + legend_height + 8);
}

std::string heatmap_svg(const Heatmap& map) {
  SvgCanvas svg;
  svg.raw(heatmap_defs());
  double row_label = text_width(map.row_title, kFont) - 14, column_label = 0;
  for (const std::string& r : map.rows) row_label = std::max(row_label, text_width(shorten(r, kLabelChars), kFont));
  for (const std::string& c : map.columns)
    column_label = std::max(column_label, text_width(shorten(c, kLabelChars), kFont));
  const bool rotate = column_label > kCellWidth - 6;  // long column names are drawn at 40 degrees
  const double left = std::max(row_label + 30, 60.0);
  const double heading = draw_heading(svg, map.title, map.note, 8);
  const double grid_top = heading + 16 + (rotate ? column_label * 0.65 + 10 : 18);
  const double grid_width = kCellWidth * map.columns.size(), grid_height = kCellHeight * map.rows.size();
  svg.text(left + grid_width / 2, heading + 10, map.column_title, kFont, "middle", kMuted, true);
  double right = left + grid_width;
  for (std::size_t c = 0; c < map.columns.size(); ++c) {
    const double cx = left + kCellWidth * (c + 0.5);
    const std::string label = shorten(map.columns[c], kLabelChars);
    if (rotate) right = std::max(right, cx + text_width(label, kFont) * 0.77 + 8);
    svg.text(cx, grid_top - 7, label, kFont, rotate ? "start" : "middle", "#333", false, rotate ? -40 : 0);
  }
  svg.text(14, grid_top + grid_height / 2, map.row_title, kFont, "middle", kMuted, true, -90);
  for (std::size_t r = 0; r < map.rows.size(); ++r) {
    const double y = grid_top + kCellHeight * r;
    svg.text(left - 8, y + kCellHeight / 2 + 4, shorten(map.rows[r], kLabelChars), kFont, "end", "#333");
    for (std::size_t c = 0; c < map.columns.size(); ++c) {
      draw_cell(svg, left + kCellWidth * c, y, cell_at(map.values, r, c), cell_at(map.counts, r, c));
    }
  }
  const double bottom = draw_scale(svg, left + grid_width + 16, grid_top, grid_height);
  const double width = std::max(
      {right, left + grid_width + 52, text_width(map.title, kTitleFont) * 1.1 + 16, text_width(map.note, kFont) + 16});
  return svg.document(width + 8, bottom + 12);
}

}  // namespace fedglioma::sim
