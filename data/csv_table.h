#pragma once

#include <filesystem>
#include <string>
#include <vector>

namespace fedglioma::data {

/// A CSV file read whole: RFC 4180 quoting, LF or CRLF line ends, a UTF-8 byte-order mark and a
/// missing final newline are all accepted. Cells keep their text exactly (no trimming).
class CsvTable {
 public:
  /// Reads `path`. Throws DataError naming the file for an unreadable file, an unterminated
  /// quote, or a row whose cell count differs from the header's.
  static CsvTable read(const std::filesystem::path& path);

  /// Index of the column named `name`; throws DataError naming the file and the column (and the
  /// columns it has) when it is missing.
  std::size_t column(const std::string& name) const;
  /// Index of the first of `names` that exists; throws like column() when none does.
  std::size_t column_any(const std::vector<std::string>& names) const;
  bool has_column(const std::string& name) const;

  const std::vector<std::string>& header() const { return header_; }
  const std::vector<std::vector<std::string>>& rows() const { return rows_; }
  const std::filesystem::path& path() const { return path_; }

  /// "'<file>' row N column 'C'": where a cell is, for error messages (N counts data rows from
  /// 1, as a spreadsheet shows them below the header).
  std::string where(std::size_t row, std::size_t column) const;

 private:
  std::filesystem::path path_;
  std::vector<std::string> header_;
  std::vector<std::vector<std::string>> rows_;
};

/// `text` as one CSV cell, quoted as RFC 4180 asks (and CsvTable reads back) when it holds a
/// comma, a quote, a CR or an LF. Every CSV fedglioma writes goes through this.
std::string csv_field(const std::string& text);

/// `text` with ASCII letters lower-cased: how the table readers compare spellings and names
/// case-insensitively.
std::string ascii_lower(std::string text);

}  // namespace fedglioma::data
