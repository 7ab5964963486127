// The msd layout: the Medical Segmentation Decathlon's Task01_BrainTumour, four modalities in one
// 4-D file per case, described by its dataset.json.
#include <nlohmann/json.hpp>

#include <map>

#include "core/error.h"
#include "core/json_document.h"
#include "data/layouts/layout_support.h"
#include "data/nifti_io.h"

namespace fedglioma::data {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

// A dataset.json member that must be an object or array.
const json& member(const json& doc, const char* key, bool array, const std::string& file) {
  if (!doc.contains(key) || (array ? !doc.at(key).is_array() : !doc.at(key).is_object()))
    throw DataError(file + ": expected " + (array ? "an array \"" : "an object \"") + key + "\" (the Decathlon's format)");
  return doc.at(key);
}

// The "modality" block: channel -> name.
std::map<int, std::string> channel_names(const json& doc, const std::string& file) {
  std::map<int, std::string> names;
  for (const auto& [key, value] : member(doc, "modality", false, file).items()) {
    const std::optional<int> channel = small_number(key);
    if (!channel || !value.is_string())
      throw DataError(file + ": modality \"" + key + "\" should map a channel number to a name");
    names[*channel] = value.get<std::string>();
  }
  return names;
}

// The labels must be Task01's four, whose order (1 edema, 2 non-enhancing, 3 enhancing) differs
// from BraTS 2023's: another numbering is refused rather than read as this one.
void check_labels(const json& doc, const std::string& file) {
  const json& labels = member(doc, "labels", false, file);
  for (const char* key : {"0", "1", "2", "3"})
    if (!labels.contains(key)) throw DataError(file + ": labels lack \"" + std::string(key) + "\"; expected Task01's 0-3");
  if (labels.size() != 4) throw DataError(file + ": labels hold " + std::to_string(labels.size()) + " entries; expected Task01's 0-3");
}

// A listed file, relative to the root ("./imagesTr/BRATS_001.nii.gz"); the case id is its name.
fs::path listed_file(const json& entry, const fs::path& root, const std::string& where) {
  if (!entry.is_string() || entry.get<std::string>().empty()) throw DataError(where + ": expected a file name");
  return (root / entry.get<std::string>()).lexically_normal();
}

std::string case_id(const fs::path& file) {
  std::string name = file.filename().string();
  for (const char* ext : {".nii.gz", ".nii"})
    if (name.size() > std::string(ext).size() && name.compare(name.size() - std::string(ext).size(), std::string::npos, ext) == 0)
      return name.substr(0, name.size() - std::string(ext).size());
  return name;
}

Case msd_case(const fs::path& image, const std::optional<fs::path>& mask, const std::array<int, 4>& channels,
              const std::string& site, const std::string& split) {
  const std::string id = case_id(image);
  Case c = make_case(id, site, split, {image, image, image, image}, mask);
  const int volumes = read_volume_count(image);
  if (volumes != 4)
    throw DataError("case '" + id + "': '" + image.string() + "' holds " + std::to_string(volumes) +
                    " volume(s); the Decathlon's images hold the four modalities as a 4-D file");
  c.channels = channels;
  c.label_convention = "msd";
  return c;
}

Manifest msd(const LayoutOptions& o, TableRows&) {
  if (!o.labels.empty())
    throw ConfigError("--labels: the Decathlon ships no marker table; join markers with `fedglioma manifest --merge`");
  const fs::path description = o.root / "dataset.json";
  const std::string file = "'" + description.string() + "'";
  json doc;
  try {
    doc = parse_json_document(read_dataset_json(description));
  } catch (const std::invalid_argument& e) {
    throw DataError(file + ": " + e.what());
  }
  const std::array<int, 4> channels = channel_map(channel_names(doc, file), o.channels, file + " modality");
  check_labels(doc, file);
  Manifest m;
  std::size_t index = 0;
  for (const json& entry : member(doc, "training", true, file)) {
    const std::string where = file + " training #" + std::to_string(index++);
    if (!entry.is_object()) throw DataError(where + ": expected {\"image\": ..., \"label\": ...}");
    m.cases.push_back(msd_case(listed_file(entry.value("image", json()), o.root, where + " image"),
                               listed_file(entry.value("label", json()), o.root, where + " label"), channels, o.site,
                               o.split));
  }
  index = 0;
  if (doc.contains("test"))  // plain strings: images without labels, never trained on
    for (const json& entry : member(doc, "test", true, file))
      m.cases.push_back(msd_case(listed_file(entry, o.root, file + " test #" + std::to_string(index++)), std::nullopt,
                                 channels, o.site, "test"));
  return m;
}

}  // namespace

LayoutEntry msd_layout() { return {"msd", msd, false}; }

}  // namespace fedglioma::data
