// The report's SVG charts and the text helpers under them: escaping, base64, gaps, bands kept
// inside the axis range, heatmaps sized to their cells.
#include <catch2/catch.hpp>

#include <regex>
#include <string>
#include <vector>

#include "sim/report/markup.h"
#include "sim/report/svg_canvas.h"
#include "sim/report/svg_plot.h"

using namespace fedglioma::sim;

namespace {

std::size_t count(const std::string& text, const std::string& what) {
  std::size_t n = 0;
  for (std::size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

// The y coordinates of every "x,y" pair in the points="..." of each `element` (polyline, polygon).
std::vector<std::vector<double>> point_ys(const std::string& svg, const std::string& element) {
  std::vector<std::vector<double>> out;
  const std::regex points("<" + element + R"re([^>]*points="([^"]*)")re");
  for (std::sregex_iterator it(svg.begin(), svg.end(), points), end; it != end; ++it) {
    std::vector<double> ys;
    const std::string list = (*it)[1];
    const std::regex pair(R"(([-\d.]+),([-\d.]+))");
    for (std::sregex_iterator p(list.begin(), list.end(), pair); p != end; ++p) ys.push_back(std::stod((*p)[2]));
    out.push_back(ys);
  }
  return out;
}

// The top and bottom of the plot area: the y axis line drawn at the left edge.
std::pair<double, double> y_axis(const std::string& svg) {
  std::smatch m;
  REQUIRE(std::regex_search(svg, m, std::regex(R"re(<line x1="60" y1="([\d.]+)" x2="60" y2="([\d.]+)")re")));
  return {std::stod(m[1]), std::stod(m[2])};
}

}  // namespace

TEST_CASE("escape_xml, shorten and base64 make data safe to embed", "[report]") {
  CHECK(escape_xml("<b>&\"x'") == "&lt;b&gt;&amp;&quot;x&#39;");
  CHECK(escape_xml("a\x01"
                   "b\x7f") == "a?b?");               // control characters XML cannot carry
  CHECK(escape_xml("caf\xC3\xA9") == "caf\xC3\xA9");  // UTF-8 kept
  CHECK(escape_xml("bad\xC3(\xFF") == "bad?(?");      // bytes that are not UTF-8
  CHECK(shorten("site-a", 10) == "site-a");
  CHECK(shorten("abcdefghijkl", 5) == "abcd\xE2\x80\xA6");
  CHECK(base64("") == "");
  CHECK(base64("f") == "Zg==");
  CHECK(base64("fo") == "Zm8=");
  CHECK(base64("foo") == "Zm9v");
  CHECK(base64("foobar") == "Zm9vYmFy");
  CHECK(base64(std::string("\xff\x00\x10", 3)) == "/wAQ");
  CHECK(fixed(0.81234, 3) == "0.812");
  CHECK(fixed(std::nullopt, 3) == "\xE2\x80\x93");
  CHECK(fixed(-0.0001, 2) == "0.00");
  CHECK(svg_img("<svg/>", "a \"b\"").find("alt=\"a &quot;b&quot;\"") != std::string::npos);
}

TEST_CASE("nice_ticks picks round steps over the range", "[report]") {
  CHECK(nice_ticks(0, 1, 5) == std::vector<double>{0, 0.2, 0.4, 0.6000000000000001, 0.8, 1});
  CHECK(nice_ticks(1, 5, 8, true) == std::vector<double>{1, 2, 3, 4, 5});
  CHECK(nice_ticks(1, 20, 8, true) == std::vector<double>{5, 10, 15, 20});  // never steps of 2.5 rounds
  CHECK(tick_label(0.25, 0.05) == "0.25");
  CHECK(tick_label(10, 5) == "10");
}

TEST_CASE("a line chart leaves gaps at missing values and keeps bands inside its range", "[report]") {
  // Prepare: a missing value in the middle, a band that leaves [0, 1] on both sides.
  LineChart chart;
  chart.title = "Mean Dice";
  chart.note = "n = 8";
  chart.y_min = 0;
  chart.y_max = 1;
  chart.series.push_back({"val <b>&\"x",
                          {1, 2, 3, 4, 5},
                          {0.5, 0.6, std::nullopt, 0.7, 0.8},
                          {-0.2, 0.4, std::nullopt, 0.5, 0.6},
                          {0.9, 1.3, std::nullopt, 0.9, 1.1},
                          false});
  chart.marker_x = 2;
  chart.marker_label = "selected (round 2)";

  // Execute
  const std::string svg = line_chart_svg(chart);

  // Assert: two runs of points (rounds 1-2 and 4-5), never a point at zero for round 3.
  REQUIRE(svg.rfind("<svg xmlns=\"http://www.w3.org/2000/svg\"", 0) == 0);
  const auto lines = point_ys(svg, "polyline");
  REQUIRE(lines.size() == 2);
  CHECK(lines[0].size() == 2);
  CHECK(lines[1].size() == 2);
  const auto [top, bottom] = y_axis(svg);
  for (const auto& line : lines)
    for (const double y : line) CHECK(y < bottom);  // 0.5 and above: never drawn at the bottom (zero)
  const auto bands = point_ys(svg, "polygon");
  REQUIRE(bands.size() == 2);  // the band breaks at the gap too
  for (const auto& band : bands)
    for (const double y : band) {
      CHECK(y >= top);
      CHECK(y <= bottom);
    }
  CHECK(svg.find("val &lt;b&gt;&amp;&quot;x") != std::string::npos);
  CHECK(svg.find("<b>") == std::string::npos);
  CHECK(svg.find("selected (round 2)") != std::string::npos);
  CHECK(svg.find("n = 8") != std::string::npos);
}

TEST_CASE("a lone value is a dot, and a chart without values says so", "[report]") {
  LineChart chart;
  chart.title = "AUC";
  chart.series.push_back({"external", {1, 2, 3}, {std::nullopt, 0.7, std::nullopt}, {}, {}, true});
  const std::string dot = line_chart_svg(chart);
  CHECK(count(dot, "<polyline") == 0);
  CHECK(count(dot, "<circle") == 1);

  chart.series[0].y = {std::nullopt, std::nullopt, std::nullopt};
  const std::string empty = line_chart_svg(chart);
  CHECK(empty.find("no values to show") != std::string::npos);
  CHECK(count(empty, "<circle") == 0);
}

TEST_CASE("a curve plot draws the diagonal, its curves and the bins' counts", "[report]") {
  CurvePlot plot{
      "IDH reliability, validation",
      "n = 12",
      "mean predicted probability",
      "fraction positive",
      {{"selected (round 2): Brier 0.180, ECE 0.070", {0.1, 0.5, 0.9}, {0.0, 0.6, 1.2}, {4, 5, 3}, false, true},
       {"final <x>", {0.0, 1.0}, {0.0, 1.0}, {}, true, false}}};
  const std::string svg = curve_plot_svg(plot);
  CHECK(count(svg, "<polyline") == 2);
  CHECK(count(svg, "stroke-dasharray=\"4 4\"") == 1);  // the diagonal
  CHECK(svg.find(">5</text>") != std::string::npos);   // a bin's n
  CHECK(svg.find("final &lt;x&gt;") != std::string::npos);
  CHECK(svg.find("Brier 0.180, ECE 0.070") != std::string::npos);
  std::smatch m;
  REQUIRE(std::regex_search(svg, m, std::regex(R"re(<line x1="52" y1="([\d.]+)" x2="52")re")));
  const double top = std::stod(m[1]);
  const auto lines = point_ys(svg, "polyline");
  REQUIRE(lines.size() == 2);
  for (const double y : lines[0]) CHECK(y >= top);  // 1.2 is drawn at 1, the top of the axis
}

TEST_CASE("a heatmap prints each cell's value and n, hatches missing cells and fits its cells", "[report]") {
  Heatmap map;
  map.title = "Mean Dice";
  map.rows = {"global", "<b>&\"x"};
  map.columns = {"site-a", "external"};
  map.values = {{0.812, std::nullopt}, {0.5, 0.25}};
  map.counts = {{8, 4}, {std::nullopt, 4}};
  const std::string small = heatmap_svg(map);
  CHECK(small.find(">0.812</text>") != std::string::npos);
  CHECK(small.find(">n=8</text>") != std::string::npos);
  CHECK(count(small, "fill=\"url(#hatch)\"") == 1);
  CHECK(small.find("&lt;b&gt;&amp;&quot;x") != std::string::npos);
  CHECK(small.find("<b>") == std::string::npos);

  // Width grows with the columns, and a small map stays small.
  std::smatch m;
  REQUIRE(std::regex_search(small, m, std::regex(R"re(width="(\d+)" height="(\d+)")re")));
  const int small_width = std::stoi(m[1]);
  CHECK(small_width < 400);
  CHECK(std::stoi(m[2]) < 260);
  map.columns = {"a", "b", "c", "d", "e", "f"};
  map.values = {std::vector<std::optional<double>>(6, 0.5), std::vector<std::optional<double>>(6, 0.5)};
  const std::string wide = heatmap_svg(map);
  REQUIRE(std::regex_search(wide, m, std::regex(R"re(width="(\d+)")re")));
  CHECK(std::stoi(m[1]) >= small_width + 4 * 60);
}
