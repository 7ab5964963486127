#pragma once

#include <optional>
#include <string>

namespace fedglioma::sim {

/// `text` safe inside HTML or SVG text and quoted attributes: `&`, `<`, `>`, `"` and `'` become
/// character references, control characters (which XML cannot carry) and bytes that are not
/// UTF-8 become '?'. Site and case ids come from data, so every text from a file goes through it.
std::string escape_xml(const std::string& text);

/// At most `max_chars` characters of UTF-8 `text` (cut at a character boundary), with "…" when cut:
/// for labels in a chart, where a 200-byte site id would cover its neighbours.
std::string shorten(const std::string& text, std::size_t max_chars);

/// RFC 4648 base64 (with padding) of `bytes`.
std::string base64(const std::string& bytes);

/// An `<img>` showing the SVG document `svg` from a data URI (`data:image/svg+xml;base64,...`), so
/// that the page needs no other file; `alt` is escaped.
std::string svg_img(const std::string& svg, const std::string& alt);

/// `value` with `decimals` digits after the point ("0.812"); `missing` when there is none or it is
/// not finite.
std::string fixed(std::optional<double> value, int decimals, const std::string& missing = "–");

}  // namespace fedglioma::sim
