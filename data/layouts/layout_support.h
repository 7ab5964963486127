#pragma once

// What the layouts (data/layouts/<name>.cpp) share: folder listing, the files a case needs, the
// label tables' rows, one Case. Only the layouts include it.

#include <array>
#include <filesystem>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "data/layouts.h"
#include "data/manifest.h"

namespace fedglioma::data {

/// The sub-folders of `dir`, sorted; DataError when `dir` is not a folder.
std::vector<std::filesystem::path> subfolders(const std::filesystem::path& dir);

/// `path`, or DataError naming case `id` and the file expected.
std::filesystem::path require_file(const std::filesystem::path& path, const std::string& id);

// The ids each label table lists, to report the rows that match no case.
class TableRows {
 public:
  template <typename Map>
  const Map& add(const std::filesystem::path& table, const Map& rows) {
    auto& ids = ids_[table];
    for (const auto& item : rows) ids.push_back(item.first);
    return rows;
  }

  std::vector<UnmatchedRows> unmatched(const Manifest& m) const {
    std::set<std::string> cases;
    for (const Case& c : m.cases) cases.insert(c.id);
    std::vector<UnmatchedRows> out;
    for (const auto& [table, ids] : ids_) {
      UnmatchedRows rows{table, {}};
      for (const std::string& id : ids)
        if (!cases.count(id)) rows.ids.push_back(id);
      if (!rows.ids.empty()) out.push_back(std::move(rows));
    }
    return out;
  }

 private:
  std::map<std::filesystem::path, std::vector<std::string>> ids_;
};

/// The layout's one label table (or none); a second would silently replace the first's labels.
std::optional<std::filesystem::path> single_table(const LayoutOptions& o);

/// Merges the labels `extra` knows into `into` (a table only fills what it records).
void merge(Labels& into, const Labels& extra);

/// A case of `images` (t1, t1c, t2, flair) and `mask`, each required to exist.
Case make_case(const std::string& id, const std::string& site, const std::string& split,
               const std::array<std::filesystem::path, 4>& images, const std::optional<std::filesystem::path>& mask);

/// `text` as a channel or label number: digits only, at most 6 (so no overflow); else nullopt.
std::optional<int> small_number(const std::string& text);

/// Which channel of a multi-channel dataset (msd, nnunet) is each modality, kModalities order:
/// from the dataset.json's channel names (`names`: channel -> name, e.g. "FLAIR", "T1w", "t1gd",
/// "T1ce", "T2w", "t2f"), then the user's "modality=INDEX" overrides. A modality no name or
/// override gives, a name that fits none, or two modalities on one channel is a ConfigError
/// naming `where` and asking for --channel.
std::array<int, 4> channel_map(const std::map<int, std::string>& names, const std::vector<std::string>& overrides,
                               const std::string& where);

/// The dataset.json at `path`, parsed; DataError naming the file when it is missing or not JSON.
/// (Returned as text to keep nlohmann out of this header: parse it with parse_json_document.)
std::string read_dataset_json(const std::filesystem::path& path);

}  // namespace fedglioma::data
