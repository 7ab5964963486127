#pragma once

#include <filesystem>
#include <initializer_list>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "data/csv_table.h"

namespace fedglioma::sim {

/// A run folder's files, as its report reads them: by key, so that a file from an older or newer
/// run that lacks a key shows less rather than failing. A file the run did not write (or a table
/// that cannot be read) stays empty and `absent` holds one line saying so, for its section.
struct RunFiles {
  std::filesystem::path dir;
  std::string name;                    ///< the folder's own name ("smoke-fedper")
  nlohmann::json summary;              ///< summary.json (always there)
  nlohmann::json config;               ///< config.resolved.json, or null
  nlohmann::json partitions;           ///< partitions.json, or null
  std::vector<nlohmann::json> rounds;  ///< rounds.jsonl, one object per line
  std::optional<data::CsvTable> cross_site, roc, calibration, cases;
  std::map<std::string, std::string> absent;  ///< file name -> "roc.csv: not written by this run"
};

/// Throws ConfigError "'DIR' is not a finished run folder: ..." naming what it lacks unless `dir`
/// carries the `.fedglioma-run` marker and summary.json (written last, when the run ends).
void require_finished_run(const std::filesystem::path& dir);

/// Reads the run folder `dir`. Throws require_finished_run's ConfigError, and IoError naming the file (and line) when
/// summary.json, config.resolved.json, partitions.json or a line of rounds.jsonl is not a JSON object.
RunFiles read_run_files(const std::filesystem::path& dir);

/// `j` at the key path `keys` ({"federation", "strategy", "name"}), or null when a step is missing
/// or not an object.
const nlohmann::json& json_at(const nlohmann::json& j, std::initializer_list<const char*> keys);

/// The number at `keys`, or none when it is missing, null or not a number.
std::optional<double> number_at(const nlohmann::json& j, std::initializer_list<const char*> keys);

/// The value at `keys` as text: a string as it is, another scalar as JSON, "" when missing or null.
std::string text_at(const nlohmann::json& j, std::initializer_list<const char*> keys);

/// A CSV cell as a number: none when it is empty or not one ("inf" is one).
std::optional<double> cell_number(const std::string& cell);

/// The rounds.jsonl object of round `round`, or null when the file has none.
const nlohmann::json& round_object(const RunFiles& run, int round);

}  // namespace fedglioma::sim
