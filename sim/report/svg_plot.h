#pragma once

#include <optional>
#include <string>
#include <vector>

namespace fedglioma::sim {

/// One line of a LineChart: values at `x` (rounds). A missing value leaves a gap in the line (it is
/// never drawn as zero); a value with no neighbour is drawn as a dot.
struct LineSeries {
  std::string name;
  std::vector<double> x;
  std::vector<std::optional<double>> y;
  /// The interval band around the line: empty, or one bound per x (missing: no band there).
  std::vector<std::optional<double>> lower, upper;
  bool dashed = false;
};

/// Several series over rounds, with their bands, a legend and an optional vertical marker.
struct LineChart {
  std::string title;
  std::string note;  ///< under the title: "n = 8 (val), 4 (external)"
  std::string x_label = "round";
  std::string y_label;
  std::vector<LineSeries> series;
  /// The y range; values and bands outside it are drawn at its edge. Unset: from the data.
  std::optional<double> y_min, y_max;
  std::optional<double> marker_x;  ///< a vertical line (the selected round)
  std::string marker_label;
};

/// The chart as an SVG document.
std::string line_chart_svg(const LineChart& chart);

/// One curve of a CurvePlot: points in [0, 1]^2 joined in order.
struct Curve {
  std::string name;  ///< the legend entry, with its numbers ("selected (round 4): AUC 0.81")
  std::vector<double> x, y;
  std::vector<long> counts;  ///< empty, or one per point, printed beside it (a reliability bin's n)
  bool dashed = false;
  bool markers = false;  ///< a dot at each point
};

/// Curves on the unit square with the diagonal: ROC curves (false-positive rate -> true-positive
/// rate) and reliability diagrams (mean predicted probability -> fraction positive).
struct CurvePlot {
  std::string title;
  std::string note;  ///< "n+ = 5, n- = 7"
  std::string x_label, y_label;
  std::vector<Curve> curves;
};

/// The plot as an SVG document.
std::string curve_plot_svg(const CurvePlot& plot);

/// A rows x columns table of values in [0, 1], coloured on one scale (viridis), each cell printing
/// its value and n; missing cells are hatched grey. The figure is as large as its cells need.
struct Heatmap {
  std::string title;
  std::string note;
  std::string row_title, column_title;  ///< "model", "data"
  std::vector<std::string> rows, columns;
  std::vector<std::vector<std::optional<double>>> values;  ///< [row][column]
  std::vector<std::vector<std::optional<long>>> counts;    ///< [row][column]; printed "n=8"
};

/// The heatmap as an SVG document.
std::string heatmap_svg(const Heatmap& map);

}  // namespace fedglioma::sim
