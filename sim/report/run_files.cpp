#include "sim/report/run_files.h"

#include <cstdlib>

#include "core/atomic_file.h"
#include "core/error.h"

namespace fedglioma::sim {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

// A rounds.jsonl of a long run with many sites passes the 64 MiB of a config or manifest.
constexpr std::uintmax_t kMaxRoundsBytes = 1ull << 30;

json read_object(const fs::path& path) {
  json out;
  try {
    out = json::parse(read_file(path, kMaxTextInputBytes));
  } catch (const json::exception& e) {
    throw IoError("'" + path.string() + "' is not valid JSON (" + e.what() + "); was the run folder copied whole?");
  }
  if (!out.is_object()) throw IoError("'" + path.string() + "' does not hold a JSON object");
  return out;
}

std::vector<json> read_rounds(const fs::path& path) {
  std::vector<json> rounds;
  const std::string text = read_file(path, kMaxRoundsBytes);
  std::size_t start = 0, line = 1;
  for (; start < text.size(); ++line) {
    std::size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    const std::string row = text.substr(start, end - start);
    start = end + 1;
    if (row.find_first_not_of(" \t\r") == std::string::npos) continue;
    json round = json::parse(row, nullptr, false);
    if (round.is_discarded() || !round.is_object())
      throw IoError("'" + path.string() + "' line " + std::to_string(line) + " is not a JSON object");
    rounds.push_back(std::move(round));
  }
  return rounds;
}

// A CSV table the run may not have written: none (and why) when it is missing or unreadable.
std::optional<data::CsvTable> read_table(const fs::path& dir, const std::string& name, const std::string& why_absent,
                                         std::map<std::string, std::string>& absent) {
  if (!fs::exists(dir / name)) {
    absent[name] = name + ": not written by this run" + why_absent;
    return std::nullopt;
  }
  try {
    return data::CsvTable::read(dir / name);
  } catch (const Error& e) {
    absent[name] = name + ": cannot be read (" + e.what() + ")";
    return std::nullopt;
  }
}

}  // namespace

void require_finished_run(const fs::path& dir) {
  if (!fs::is_directory(dir)) throw ConfigError("'" + dir.string() + "' is not a finished run folder: no such folder");
  for (const char* name : {".fedglioma-run", "summary.json"})
    if (!fs::is_regular_file(dir / name))
      throw ConfigError("'" + dir.string() + "' is not a finished run folder: it has no " + name +
                        (std::string(name) == "summary.json" ? " (written when a run ends)" : " (the run marker)"));
}

RunFiles read_run_files(const fs::path& dir) {
  require_finished_run(dir);
  RunFiles run;
  run.dir = dir;
  run.name = fs::weakly_canonical(fs::absolute(dir)).filename().string();
  run.summary = read_object(dir / "summary.json");
  run.config = fs::exists(dir / "config.resolved.json") ? read_object(dir / "config.resolved.json") : json(nullptr);
  if (run.config.is_null()) run.absent["config.resolved.json"] = "config.resolved.json: missing from the run folder";
  run.partitions = fs::exists(dir / "partitions.json") ? read_object(dir / "partitions.json") : json(nullptr);
  if (fs::exists(dir / "rounds.jsonl"))
    run.rounds = read_rounds(dir / "rounds.jsonl");
  else
    run.absent["rounds.jsonl"] = "rounds.jsonl: not written by this run";
  run.cross_site = read_table(dir, "cross_site.csv", " (no models of the sites' own)", run.absent);
  run.roc = read_table(dir, "roc.csv", "", run.absent);
  run.calibration = read_table(dir, "calibration.csv", "", run.absent);
  run.cases = read_table(dir, "cases.csv", "", run.absent);
  return run;
}

const json& json_at(const json& j, std::initializer_list<const char*> keys) {
  static const json kNull = nullptr;
  const json* at = &j;
  for (const char* key : keys) {
    if (!at->is_object()) return kNull;
    const auto it = at->find(key);
    if (it == at->end()) return kNull;
    at = &*it;
  }
  return *at;
}

std::optional<double> number_at(const json& j, std::initializer_list<const char*> keys) {
  const json& v = json_at(j, keys);
  return v.is_number() ? std::optional<double>(v.get<double>()) : std::nullopt;
}

std::string text_at(const json& j, std::initializer_list<const char*> keys) {
  const json& v = json_at(j, keys);
  if (v.is_null()) return "";
  return v.is_string() ? v.get<std::string>() : v.dump();
}

std::optional<double> cell_number(const std::string& cell) {
  if (cell.empty()) return std::nullopt;
  char* end = nullptr;
  const double v = std::strtod(cell.c_str(), &end);
  return end == cell.c_str() + cell.size() ? std::optional<double>(v) : std::nullopt;
}

const json& round_object(const RunFiles& run, int round) {
  static const json kNull = nullptr;
  for (const json& r : run.rounds)
    if (number_at(r, {"round"}) == static_cast<double>(round)) return r;
  return kNull;
}

}  // namespace fedglioma::sim
