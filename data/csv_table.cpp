#include "data/csv_table.h"

#include "core/atomic_file.h"
#include "core/error.h"

namespace fedglioma::data {

namespace {

// The file's text without a UTF-8 byte-order mark; a file that cannot be read is a DataError.
std::string read_text(const std::filesystem::path& path) {
  std::string text;
  try {
    text = read_file(path, kMaxTextInputBytes);
  } catch (const IoError& e) {
    throw DataError(e.what());
  }
  if (text.rfind("\xEF\xBB\xBF", 0) == 0) text.erase(0, 3);
  return text;
}

// The records of `text` by RFC 4180, blank lines left out; an unterminated quote names its line.
std::vector<std::vector<std::string>> split_records(const std::string& text, const std::filesystem::path& path) {
  std::vector<std::vector<std::string>> records;
  std::vector<std::string> record;
  std::string cell;
  bool quoted = false, cell_started = false;
  std::size_t line = 1;
  auto end_cell = [&] {
    record.push_back(std::move(cell));
    cell.clear();
    cell_started = false;
  };
  auto end_record = [&] {
    end_cell();
    if (!(record.size() == 1 && record[0].empty())) records.push_back(std::move(record));  // skip blank lines
    record.clear();
  };
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (quoted) {
      if (c == '"') {
        if (i + 1 < text.size() && text[i + 1] == '"') {
          cell += '"';
          ++i;
        } else {
          quoted = false;
        }
      } else {
        if (c == '\n') ++line;
        cell += c;
      }
    } else if (c == '"' && !cell_started) {
      quoted = cell_started = true;
    } else if (c == ',') {
      end_cell();
    } else if (c == '\n' || c == '\r') {
      if (c == '\r' && i + 1 < text.size() && text[i + 1] == '\n') ++i;
      end_record();
      ++line;
    } else {
      cell += c;
      cell_started = true;
    }
  }
  if (quoted) throw DataError("'" + path.string() + "': unterminated quoted cell (line " + std::to_string(line) + ")");
  if (cell_started || !cell.empty() || !record.empty()) end_record();
  return records;
}

}  // namespace

CsvTable CsvTable::read(const std::filesystem::path& path) {
  const std::string text = read_text(path);
  CsvTable table;
  table.path_ = path;
  std::vector<std::vector<std::string>> records = split_records(text, path);
  if (records.empty()) throw DataError("'" + path.string() + "': empty table (expected a header row)");
  table.header_ = std::move(records.front());
  for (std::size_t r = 1; r < records.size(); ++r) {
    if (records[r].size() != table.header_.size())
      throw DataError("'" + path.string() + "' row " + std::to_string(r) + ": " + std::to_string(records[r].size()) +
                      " cells but the header has " + std::to_string(table.header_.size()));
    table.rows_.push_back(std::move(records[r]));
  }
  return table;
}

bool CsvTable::has_column(const std::string& name) const {
  for (const auto& h : header_)
    if (h == name) return true;
  return false;
}

std::size_t CsvTable::column(const std::string& name) const { return column_any({name}); }

std::size_t CsvTable::column_any(const std::vector<std::string>& names) const {
  for (const auto& name : names)
    for (std::size_t i = 0; i < header_.size(); ++i)
      if (header_[i] == name) return i;
  std::string wanted, have;
  for (const auto& n : names) wanted += (wanted.empty() ? "'" : " or '") + n + "'";
  for (const auto& h : header_) have += (have.empty() ? "" : ", ") + h;
  throw DataError("'" + path_.string() + "': missing column " + wanted + " (columns: " + have + ")");
}

std::string CsvTable::where(std::size_t row, std::size_t column) const {
  return "'" + path_.string() + "' row " + std::to_string(row + 1) + " column '" + header_.at(column) + "'";
}

std::string csv_field(const std::string& text) {
  if (text.find_first_of(",\"\r\n") == std::string::npos) return text;
  std::string out = "\"";
  for (const char c : text) out += c == '"' ? std::string("\"\"") : std::string(1, c);
  return out + "\"";
}

}  // namespace fedglioma::data
