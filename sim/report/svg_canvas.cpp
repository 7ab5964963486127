#include "sim/report/svg_canvas.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "sim/report/markup.h"

namespace fedglioma::sim {
namespace {

std::string points_text(const SvgCanvas::Points& points) {
  std::string out;
  for (const auto& [x, y] : points) out += (out.empty() ? "" : " ") + svg_number(x) + "," + svg_number(y);
  return out;
}

std::string dash_attribute(const std::string& dash) { return dash.empty() ? "" : " stroke-dasharray=\"" + dash + "\""; }

constexpr double kLegendFont = 11;
constexpr double kLegendRow = 17;
constexpr double kLegendSample = 22;  // the line sample before each label

}  // namespace

std::string svg_number(double v) {
  if (!std::isfinite(v)) v = 0;
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%.1f", v);
  std::string out = buffer;
  if (out.size() > 2 && out.compare(out.size() - 2, 2, ".0") == 0) out.resize(out.size() - 2);
  return out == "-0" ? "0" : out;
}

void SvgCanvas::rect(double x, double y, double w, double h, const std::string& fill, const std::string& attributes) {
  body_ += "<rect x=\"" + svg_number(x) + "\" y=\"" + svg_number(y) + "\" width=\"" + svg_number(w) + "\" height=\"" +
           svg_number(h) + "\" fill=\"" + fill + "\"" + (attributes.empty() ? "" : " " + attributes) + "/>";
}

void SvgCanvas::line(double x1, double y1, double x2, double y2, const std::string& stroke, double width,
                     const std::string& dash) {
  body_ += "<line x1=\"" + svg_number(x1) + "\" y1=\"" + svg_number(y1) + "\" x2=\"" + svg_number(x2) + "\" y2=\"" +
           svg_number(y2) + "\" stroke=\"" + stroke + "\" stroke-width=\"" + svg_number(width) + "\"" +
           dash_attribute(dash) + "/>";
}

void SvgCanvas::polyline(const Points& points, const std::string& stroke, double width, const std::string& dash) {
  body_ += "<polyline fill=\"none\" stroke=\"" + stroke + "\" stroke-width=\"" + svg_number(width) +
           "\" stroke-linejoin=\"round\"" + dash_attribute(dash) + " points=\"" + points_text(points) + "\"/>";
}

void SvgCanvas::polygon(const Points& points, const std::string& fill, double opacity) {
  char alpha[16];
  std::snprintf(alpha, sizeof alpha, "%.2f", opacity);
  body_ += "<polygon fill=\"" + fill + "\" fill-opacity=\"" + alpha + "\" stroke=\"none\" points=\"" +
           points_text(points) + "\"/>";
}

void SvgCanvas::circle(double cx, double cy, double r, const std::string& fill, const std::string& stroke) {
  body_ += "<circle cx=\"" + svg_number(cx) + "\" cy=\"" + svg_number(cy) + "\" r=\"" + svg_number(r) + "\" fill=\"" +
           fill + "\" stroke=\"" + stroke + "\" stroke-width=\"1\"/>";
}

void SvgCanvas::text(double x, double y, const std::string& text, double size, const std::string& anchor,
                     const std::string& fill, bool bold, double rotate, bool halo) {
  body_ +=
      "<text x=\"" + svg_number(x) + "\" y=\"" + svg_number(y) + "\" font-size=\"" + svg_number(size) +
      "\" text-anchor=\"" + anchor + "\" fill=\"" + fill + "\"" + (bold ? " font-weight=\"bold\"" : "") +
      (halo ? " stroke=\"white\" stroke-width=\"3\" paint-order=\"stroke\"" : "") +
      (rotate != 0 ? " transform=\"rotate(" + svg_number(rotate) + " " + svg_number(x) + " " + svg_number(y) + ")\""
                   : "") +
      ">" + escape_xml(text) + "</text>";
}

std::string SvgCanvas::document(double width, double height) const {
  const std::string w = svg_number(std::ceil(width)), h = svg_number(std::ceil(height));
  return "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" + w + "\" height=\"" + h + "\" viewBox=\"0 0 " + w + " " +
         h + "\" font-family=\"Helvetica, Arial, sans-serif\"><rect width=\"100%\" height=\"100%\" fill=\"white\"/>" +
         body_ + "</svg>";
}

double text_width(const std::string& text, double size) {
  double chars = 0;
  for (const char c : text) {
    const auto byte = static_cast<unsigned char>(c);
    if ((byte & 0xC0) == 0x80) continue;  // a UTF-8 continuation byte
    chars += (c == 'i' || c == 'l' || c == '.' || c == ',' || c == ' ' || c == '1') ? 0.35
             : (c == 'm' || c == 'w' || c == 'M' || c == 'W')                       ? 0.85
             : (byte >= 'A' && byte <= 'Z')                                         ? 0.68
                                                                                    : 0.56;
  }
  return chars * size;
}

std::vector<double> nice_ticks(double lo, double hi, int target, bool integer) {
  if (!(hi > lo)) return {lo};
  const double raw = (hi - lo) / std::max(1, target);
  const double power = std::pow(10.0, std::floor(std::log10(raw)));
  double step = power * 10;
  for (const double f : {1.0, 2.0, 2.5, 5.0, 10.0})
    if (f * power >= raw && !(integer && f == 2.5)) {  // rounds: 5, 10, 15, not 3, 6, 9
      step = f * power;
      break;
    }
  if (integer) step = std::max(1.0, std::round(step));
  std::vector<double> ticks;
  for (double t = std::ceil(lo / step - 1e-9) * step; t <= hi + step * 1e-9; t += step)
    ticks.push_back(std::abs(t) < step * 1e-9 ? 0.0 : t);
  return ticks;
}

std::string tick_label(double value, double step) {
  int decimals = 0;
  while (decimals < 6 && std::abs(step * std::pow(10.0, decimals) - std::round(step * std::pow(10.0, decimals))) > 1e-6)
    ++decimals;
  return fixed(value, decimals);
}

std::string series_colour(std::size_t i) {
  static const char* kColours[] = {"#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#555555"};
  return kColours[i % (sizeof kColours / sizeof *kColours)];
}

double draw_legend(SvgCanvas& svg, double x, double y, double width, const std::vector<LegendEntry>& entries) {
  if (entries.empty()) return 0;
  double cx = x, cy = y + kLegendRow / 2;
  for (const LegendEntry& e : entries) {
    const double w = kLegendSample + 6 + text_width(e.label, kLegendFont) + 16;
    if (cx > x && cx + w > x + width) {
      cx = x;
      cy += kLegendRow;
    }
    if (e.band) svg.rect(cx, cy - 5, kLegendSample, 10, e.colour, "fill-opacity=\"0.15\"");
    svg.line(cx, cy, cx + kLegendSample, cy, e.colour, 2, e.dashed ? "5 3" : "");
    svg.text(cx + kLegendSample + 6, cy + 4, e.label, kLegendFont);
    cx += w;
  }
  return cy + kLegendRow / 2 - y;
}

}  // namespace fedglioma::sim
