#include "data/csv_table.h"

#include <cctype>

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

constexpr char kQuote = '"';

// RFC 4180 records read one character at a time: inside a quoted cell, or outside one.
class RecordSplitter {
 public:
  explicit RecordSplitter(const std::string& text) : text_(text) {}

  // The records, blank lines left out; an unterminated quote names its line.
  std::vector<std::vector<std::string>> split(const std::filesystem::path& path) {
    for (i_ = 0; i_ < text_.size(); ++i_) quoted_ ? quoted_char() : plain_char();
    if (quoted_) throw DataError("'" + path.string() + "': unterminated quoted cell (line " + std::to_string(line_) + ")");
    if (cell_started_ || !cell_.empty() || !record_.empty()) end_record();
    return std::move(records_);
  }

 private:
  bool next_is(char c) const { return i_ + 1 < text_.size() && text_[i_ + 1] == c; }

  // A doubled quote is one quote; a single one closes the cell.
  void quoted_char() {
    const char c = text_[i_];
    if (c == kQuote && next_is(kQuote)) {
      cell_ += kQuote;
      ++i_;
    } else if (c == kQuote) {
      quoted_ = false;
    } else {
      if (c == '\n') ++line_;
      cell_ += c;
    }
  }

  void plain_char() {
    const char c = text_[i_];
    if (c == kQuote && !cell_started_) {
      quoted_ = cell_started_ = true;
    } else if (c == ',') {
      end_cell();
    } else if (c == '\n' || c == '\r') {
      if (c == '\r' && next_is('\n')) ++i_;
      end_record();
      ++line_;
    } else {
      cell_ += c;
      cell_started_ = true;
    }
  }

  void end_cell() {
    record_.push_back(std::move(cell_));
    cell_.clear();
    cell_started_ = false;
  }

  void end_record() {
    end_cell();
    if (!(record_.size() == 1 && record_[0].empty())) records_.push_back(std::move(record_));  // skip blank lines
    record_.clear();
  }

  const std::string& text_;
  std::size_t i_ = 0, line_ = 1;
  bool quoted_ = false, cell_started_ = false;
  std::string cell_;
  std::vector<std::string> record_;
  std::vector<std::vector<std::string>> records_;
};

}  // namespace

CsvTable CsvTable::read(const std::filesystem::path& path) {
  const std::string text = read_text(path);
  CsvTable table;
  table.path_ = path;
  std::vector<std::vector<std::string>> records = RecordSplitter(text).split(path);
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

std::string ascii_lower(std::string text) {
  for (char& ch : text) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  return text;
}

std::string csv_field(const std::string& text) {
  if (text.find_first_of(",\"\r\n") == std::string::npos) return text;
  std::string out = "\"";
  for (const char c : text) out += c == '"' ? std::string("\"\"") : std::string(1, c);
  return out + "\"";
}

}  // namespace fedglioma::data
