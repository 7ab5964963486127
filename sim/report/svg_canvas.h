#pragma once

#include <string>
#include <utility>
#include <vector>

namespace fedglioma::sim {

/// An SVG document drawn element by element in pixels, for the report's charts (svg_plot.h). Text
/// is escaped here; the document's size is given when it is finished, once the layout is known.
class SvgCanvas {
 public:
  using Points = std::vector<std::pair<double, double>>;

  /// `attributes`: extra SVG attributes written as they are (the caller's own constants only).
  void rect(double x, double y, double w, double h, const std::string& fill, const std::string& attributes = "");
  void line(double x1, double y1, double x2, double y2, const std::string& stroke, double width = 1,
            const std::string& dash = "");
  void polyline(const Points& points, const std::string& stroke, double width, const std::string& dash = "");
  void polygon(const Points& points, const std::string& fill, double opacity);
  void circle(double cx, double cy, double r, const std::string& fill, const std::string& stroke = "white");
  /// `anchor`: start, middle or end; `rotate`: degrees about (x, y); `halo`: a white outline that
  /// keeps the text readable over lines and bands.
  void text(double x, double y, const std::string& text, double size, const std::string& anchor = "start",
            const std::string& fill = "#222", bool bold = false, double rotate = 0, bool halo = false);
  /// Markup written as it is, for <defs> (a hatch pattern).
  void raw(const std::string& markup) { body_ += markup; }

  /// The whole document, `width` x `height` pixels, white background.
  std::string document(double width, double height) const;

 private:
  std::string body_;
};

/// A coordinate as SVG text, one decimal ("12.5").
std::string svg_number(double v);

/// About how wide `text` is in pixels at font size `size` (a sans-serif's average character width,
/// rounded up): enough to lay out legends and labels without overlaps.
double text_width(const std::string& text, double size);

/// Round tick values ("nice": steps of 1, 2, 2.5 or 5 times a power of ten) covering [lo, hi], about
/// `target` of them; `integer` keeps steps >= 1 (rounds).
std::vector<double> nice_ticks(double lo, double hi, int target, bool integer = false);

/// A tick value as text with as many decimals as `step` needs ("0.25", "10").
std::string tick_label(double value, double step);

/// The `i`-th series colour (Okabe-Ito, colour-blind safe).
std::string series_colour(std::size_t i);

/// One legend entry: a line sample (solid or dashed), with a band swatch behind it when `band`.
struct LegendEntry {
  std::string label;
  std::string colour;
  bool dashed = false;
  bool band = false;
};

/// Draws `entries` from (x, y) flowing into rows no wider than `width`; returns the height used.
double draw_legend(SvgCanvas& svg, double x, double y, double width, const std::vector<LegendEntry>& entries);

}  // namespace fedglioma::sim
