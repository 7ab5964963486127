// The nnunet layout: an nnU-Net raw dataset, v2 (DatasetXXX_Name/, channel_names, file_ending,
// region labels, an optional explicit "dataset" map) or v1 (TaskXXX_Name/, modality, training).
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cctype>
#include <map>
#include <regex>
#include <set>

#include "core/error.h"
#include "core/json_document.h"
#include "data/csv_table.h"
#include "data/layouts/layout_support.h"
#include "data/nnunet_names.h"

namespace fedglioma::data {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

// The dataset.json as the reader needs it, whichever version wrote it.
struct Description {
  std::string file;                                          // "'<path>'", for messages
  bool v2 = true;
  std::map<int, std::string> channels;                       // channel -> name
  std::vector<std::pair<std::string, std::vector<int>>> labels;  // name -> values (a region: several)
  std::string ending = ".nii.gz";
  json doc;
};

std::vector<int> label_values(const json& value, const std::string& where) {
  std::vector<int> out;
  for (const json& v : value.is_array() ? value : json::array({value})) {
    if (!v.is_number_unsigned() || v.get<std::uint64_t>() > 255) throw DataError(where + ": expected label values 0-255");
    out.push_back(static_cast<int>(v.get<std::uint64_t>()));
  }
  return out;
}

Description describe(const fs::path& root) {
  Description d;
  const fs::path path = root / "dataset.json";
  d.file = "'" + path.string() + "'";
  try {
    d.doc = parse_json_document(read_dataset_json(path));
  } catch (const std::invalid_argument& e) {
    throw DataError(d.file + ": " + e.what());
  }
  d.v2 = d.doc.contains("channel_names");
  const char* channel_key = d.v2 ? "channel_names" : "modality";
  if (!d.doc.contains(channel_key) || !d.doc.at(channel_key).is_object())
    throw DataError(d.file + ": expected \"channel_names\" (nnU-Net v2) or \"modality\" (v1)");
  for (const auto& [key, name] : d.doc.at(channel_key).items()) {
    const std::optional<int> channel = small_number(key);
    if (!channel || !name.is_string())
      throw DataError(d.file + ": " + channel_key + " \"" + key + "\" should map a channel number to a name");
    d.channels[*channel] = name.get<std::string>();
  }
  if (!d.doc.contains("labels") || !d.doc.at("labels").is_object()) throw DataError(d.file + ": expected an object \"labels\"");
  for (const auto& [key, value] : d.doc.at("labels").items()) {
    if (d.v2) {
      d.labels.emplace_back(key, label_values(value, d.file + " labels." + key));
    } else if (const std::optional<int> label = small_number(key); label && *label <= 255 && value.is_string()) {
      d.labels.emplace_back(value.get<std::string>(), std::vector<int>{*label});
    } else {
      throw DataError(d.file + ": labels \"" + key + "\" should map a label number to a name (nnU-Net v1)");
    }
  }
  if (d.doc.contains("file_ending")) {
    if (!d.doc.at("file_ending").is_string() || d.doc.at("file_ending").get<std::string>().rfind(".nii", 0) != 0)
      throw DataError(d.file + ": file_ending " + d.doc.at("file_ending").dump() + " is not NIfTI (.nii.gz or .nii)");
    d.ending = d.doc.at("file_ending").get<std::string>();
  }
  return d;
}

// The label convention the labels block describes; "" (every label tumour) when the whole tumour
// is clear but the sub-regions' order is not.
std::string convention_of(const Description& d) {
  std::set<int> all;
  std::vector<int> core;
  std::string first;
  for (const auto& [name, values] : d.labels) {
    for (int v : values)
      if (v != 0) all.insert(v);
    if (values.size() > 1 && ascii_lower(name).find("core") != std::string::npos) core = values;
    if (values == std::vector<int>{1}) first = ascii_lower(name);
  }
  std::sort(core.begin(), core.end());
  if (all == std::set<int>{1}) return "binary";
  if (all == std::set<int>{1, 2, 4}) return "brats2021";
  if (all == std::set<int>{1, 2, 3}) {
    if (core == std::vector<int>{1, 3} || first.find("necro") != std::string::npos || first == "ncr") return "brats2023";
    if (core == std::vector<int>{2, 3} || first.find("edema") != std::string::npos || first.find("oedema") != std::string::npos)
      return "msd";
    return "";
  }
  for (const auto& [name, values] : d.labels)
    if (all == std::set<int>{1, 2, 3, 4} && values == std::vector<int>{4} &&
        (ascii_lower(name).find("cavity") != std::string::npos || ascii_lower(name).find("resection") != std::string::npos))
      return "brats2024";
  std::string listed;
  for (int v : all) listed += (listed.empty() ? "" : ", ") + std::to_string(v);
  throw DataError(d.file + ": labels " + listed + " are not a set fedglioma reads (binary 1; BraTS 1, 2, 4 or 1, 2, 3; "
                  "the Decathlon's 1, 2, 3; BraTS 2024's 1-4 with 4 the resection cavity)");
}

// Case -> channel -> image file, from a folder of `{case}_{XXXX}{ending}` files (macOS `._*` files skipped).
std::map<std::string, std::map<int, fs::path>> scan_images(const fs::path& dir, const std::string& ending) {
  std::map<std::string, std::map<int, fs::path>> cases;
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) return cases;
  static const std::regex name(R"((.+)_(\d{4}))");
  for (const auto& e : fs::directory_iterator(dir)) {
    const std::string file = e.path().filename().string();
    if (file.rfind("._", 0) == 0 || !e.is_regular_file()) continue;
    if (file.size() <= ending.size() || file.compare(file.size() - ending.size(), ending.size(), ending) != 0) continue;
    std::smatch match;
    const std::string stem = file.substr(0, file.size() - ending.size());
    if (!std::regex_match(stem, match, name))
      throw DataError("'" + e.path().string() + "': not an nnU-Net image name ({case}_{XXXX}" + ending + ")");
    cases[match[1]][std::stoi(match[2])] = e.path();
  }
  return cases;
}

// The case's files for the four modalities; DataError naming the file a missing channel needs.
std::array<fs::path, 4> modality_files(const std::string& id, const std::map<int, fs::path>& files,
                                       const std::array<int, 4>& channels, const fs::path& dir, const std::string& ending) {
  std::array<fs::path, 4> out;
  for (std::size_t m = 0; m < 4; ++m) {
    const auto it = files.find(channels[m]);
    if (it == files.end())
      throw DataError("case '" + id + "': expected '" + (dir / nnunet_image_name(id, channels[m], ending)).string() +
                      "' (its " + kModalities[m] + "), which does not exist");
    out[m] = it->second;
  }
  return out;
}

void add_folder_cases(Manifest& m, const LayoutOptions& o, const Description& d, const std::array<int, 4>& channels,
                      const std::string& images, const std::string& labels, const std::string& split, bool need_label) {
  const std::string convention = convention_of(d);
  for (const auto& [id, files] : scan_images(o.root / images, d.ending)) {
    const fs::path label = o.root / labels / nnunet_label_name(id, d.ending);
    if (need_label && !fs::exists(label))
      throw DataError("case '" + id + "': expected its label '" + label.string() + "', which does not exist");
    Case c = make_case(id, o.site, split, modality_files(id, files, channels, o.root / images, d.ending),
                       fs::exists(label) ? std::optional<fs::path>(label) : std::nullopt);
    c.label_convention = convention;
    m.cases.push_back(std::move(c));
  }
}

// nnU-Net v2's optional explicit map: case -> {"images": [one per channel], "label": file}.
void add_mapped_cases(Manifest& m, const LayoutOptions& o, const Description& d, const std::array<int, 4>& channels) {
  const json& dataset = d.doc.at("dataset");
  if (!dataset.is_object()) throw DataError(d.file + ": \"dataset\" should map case ids to their files");
  for (const auto& [id, entry] : dataset.items()) {
    const std::string where = d.file + " dataset." + id;
    if (!entry.is_object() || !entry.contains("images") || !entry.at("images").is_array())
      throw DataError(where + ": expected {\"images\": [...], \"label\": ...}");
    std::map<int, fs::path> files;
    for (std::size_t k = 0; k < entry.at("images").size(); ++k) {
      const json& f = entry.at("images")[k];
      if (!f.is_string()) throw DataError(where + ".images: expected file names");
      files[static_cast<int>(k)] = fs::path(f.get<std::string>()).is_absolute() ? fs::path(f.get<std::string>())
                                                                                 : o.root / f.get<std::string>();
    }
    std::optional<fs::path> label;
    if (entry.contains("label") && entry.at("label").is_string())
      label = fs::path(entry.at("label").get<std::string>()).is_absolute() ? fs::path(entry.at("label").get<std::string>())
                                                                            : o.root / entry.at("label").get<std::string>();
    Case c = make_case(id, o.site, o.split, modality_files(id, files, channels, o.root, d.ending), label);
    c.label_convention = convention_of(d);
    m.cases.push_back(std::move(c));
  }
}

// nnU-Net v1 lists its training cases under names without the channel ("./imagesTr/BRATS_001.nii.gz");
// each must be among the cases found.
void check_v1_training(const Description& d, const Manifest& m) {
  if (!d.doc.contains("training") || !d.doc.at("training").is_array()) return;
  std::set<std::string> found;
  for (const Case& c : m.cases) found.insert(c.id);
  for (const json& entry : d.doc.at("training")) {
    if (!entry.is_object() || !entry.contains("image") || !entry.at("image").is_string()) continue;
    std::string name = fs::path(entry.at("image").get<std::string>()).filename().string();
    if (name.size() > d.ending.size()) name = name.substr(0, name.size() - d.ending.size());
    if (!found.count(name))
      throw DataError(d.file + ": training lists '" + name + "', whose images ('" + nnunet_image_name(name, 0, d.ending) +
                      "', ...) are not in imagesTr");
  }
}

Manifest nnunet(const LayoutOptions& o, TableRows&) {
  if (!o.labels.empty())
    throw ConfigError("--labels: nnU-Net datasets carry no markers; join them with `fedglioma manifest --merge`");
  const Description d = describe(o.root);
  const std::array<int, 4> channels =
      channel_map(d.channels, o.channels, d.file + (d.v2 ? " channel_names" : " modality"));
  Manifest m;
  if (d.v2 && d.doc.contains("dataset")) {
    add_mapped_cases(m, o, d, channels);
  } else {
    add_folder_cases(m, o, d, channels, "imagesTr", "labelsTr", o.split, true);
    if (!d.v2) check_v1_training(d, m);
  }
  add_folder_cases(m, o, d, channels, "imagesTs", "labelsTs", "test", false);
  return m;
}

}  // namespace

LayoutEntry nnunet_layout() { return {"nnunet", nnunet, false}; }

}  // namespace fedglioma::data
