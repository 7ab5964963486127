#include "data/manifest.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <set>

#include "core/atomic_file.h"
#include "core/error.h"
#include "core/file_names.h"
#include "core/json_document.h"
#include "data/label_conventions.h"

namespace fedglioma::data {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

const std::set<std::string> kSplits = {"train", "val", "test", "external"};

std::optional<int> read_label(const json& labels, const std::string& field,
                              const std::set<int>& allowed, const std::string& where) {
  if (!labels.contains(field) || labels.at(field).is_null()) return std::nullopt;
  const json& v = labels.at(field);
  if (!v.is_number_integer() || !allowed.count(v.get<int>())) {
    std::string expected;
    for (int a : allowed) expected += (expected.empty() ? "" : ", ") + std::to_string(a);
    throw DataError(where + ": labels." + field + " is " + v.dump() + "; expected one of " +
                    expected + " or null");
  }
  return v.get<int>();
}

std::string relative_if_under(const fs::path& p, const fs::path& base) {
  const fs::path rel = p.lexically_relative(base);
  if (!rel.empty() && *rel.begin() != "..") return rel.generic_string();
  return p.generic_string();
}

json label_json(const std::optional<int>& v) { return v ? json(*v) : json(nullptr); }

// A key the format does not define is an error (a misspelt "mask" or "labels" would otherwise be
// dropped without a word): names the key and lists the known ones.
void refuse_unknown_keys(const json& object, const std::vector<std::string>& known, const std::string& where,
                         const std::string& what) {
  for (const auto& item : object.items()) {
    if (std::find(known.begin(), known.end(), item.key()) != known.end()) continue;
    std::string list;
    for (const std::string& k : known) list += (list.empty() ? "" : ", ") + k;
    throw DataError(where + ": unknown " + what + " \"" + item.key() + "\" (expected " + list + ")");
  }
}

// The manifest's JSON, with its top level checked: an object of "version" 1 and a "cases" array.
json read_document(const fs::path& path, const std::string& file) {
  json doc;
  try {
    doc = parse_json_document(read_file(path, kMaxTextInputBytes));
  } catch (const std::invalid_argument& e) {
    throw DataError("'" + path.string() + "': " + e.what());
  }
  if (doc.is_object()) refuse_unknown_keys(doc, {"version", "cases"}, file, "key");
  if (!doc.is_object() || !doc.contains("cases") || !doc.at("cases").is_array())
    throw DataError(file + ": expected an object with a \"cases\" array");
  if (doc.contains("version") && doc.at("version") != 1)
    throw DataError(file + ": unsupported manifest version " + doc.at("version").dump() +
                    " (expected 1)");
  return doc;
}

// A record's string field, which must be there and not empty.
std::string text_field(const json& record, const char* field, const std::string& where) {
  if (!record.contains(field) || !record.at(field).is_string() ||
      record.at(field).get<std::string>().empty())
    throw DataError(where + ": missing or empty string field \"" + field + "\"");
  return record.at(field).get<std::string>();
}

// A record's four images and optional mask, resolved against the manifest's folder.
void read_case_images(const json& record, const fs::path& base_dir, const std::string& where, Case& c) {
  if (!record.contains("images") || !record.at("images").is_object())
    throw DataError(where + ": missing \"images\" object with t1, t1c, t2, flair");
  const json& images = record.at("images");
  refuse_unknown_keys(images, {kModalities.begin(), kModalities.end()}, where, "image");
  for (std::size_t m = 0; m < kModalities.size(); ++m) {
    const std::string field = where + ": images." + kModalities[m];
    const json image = images.value(kModalities[m], json());
    if (image.is_object()) {  // a volume of a 4-D file: {"file": path, "channel": n}
      refuse_unknown_keys(image, {"file", "channel"}, field, "key");
      if (!image.contains("channel") || !image.at("channel").is_number_unsigned() ||
          image.at("channel").get<std::uint64_t>() > 1023)
        throw DataError(field + ".channel must be a volume index (0 to 1023)");
      c.channels[m] = static_cast<int>(image.at("channel").get<std::uint64_t>());
    }
    const json file = image.is_object() ? image.value("file", json()) : image;
    if (!file.is_string() || file.get<std::string>().empty())
      throw DataError(field + " is missing (expected a path, or {\"file\": path, \"channel\": n} for a 4-D file)");
    c.images[m] = (base_dir / file.get<std::string>()).lexically_normal();
  }
  if (record.contains("mask") && !record.at("mask").is_null()) {
    if (!record.at("mask").is_string())
      throw DataError(where + ": mask must be a path or null");
    c.mask = (base_dir / record.at("mask").get<std::string>()).lexically_normal();
  }
}

// A record's "labels" object (absent: all unknown); a key other than the four markers is an error.
void read_case_labels(const json& record, const std::string& where, Labels& out) {
  const json labels = record.value("labels", json::object());
  if (!labels.is_object()) throw DataError(where + ": labels must be an object");
  for (const auto& [key, value] : labels.items()) {
    (void)value;
    if (key != "idh" && key != "codeletion_1p19q" && key != "mgmt" && key != "grade")
      throw DataError(where + ": unknown label \"" + key +
                      "\" (expected idh, codeletion_1p19q, mgmt, grade)");
  }
  out.idh = read_label(labels, "idh", {0, 1}, where);
  out.codeletion_1p19q = read_label(labels, "codeletion_1p19q", {0, 1}, where);
  out.mgmt = read_label(labels, "mgmt", {0, 1}, where);
  out.grade = read_label(labels, "grade", {2, 3, 4}, where);
}

// A record's optional "aliases": the patient's non-empty ids in other datasets.
std::vector<std::string> read_case_aliases(const json& record, const std::string& where) {
  std::vector<std::string> out;
  if (record.contains("aliases") && !record.at("aliases").is_null()) {
    const json& aliases = record.at("aliases");
    if (!aliases.is_array()) throw DataError(where + ": aliases must be an array of ids");
    for (const json& a : aliases) {
      if (!a.is_string() || a.get<std::string>().empty())
        throw DataError(where + ": aliases must hold non-empty strings, found " + a.dump());
      out.push_back(a.get<std::string>());
    }
  }
  return out;
}

// One record of "cases" (`where_index` names it by position); `seen` holds the ids before it.
Case read_case(const json& record, const std::string& file, const std::string& where_index, const fs::path& base_dir,
               std::set<std::string>& seen) {
  if (!record.is_object()) throw DataError(where_index + ": expected an object");
  Case c;
  c.id = text_field(record, "id", where_index);
  check_file_name(c.id, "id", where_index);
  const std::string where = file + " case '" + c.id + "'";
  if (!seen.insert(c.id).second) throw DataError(where + ": duplicate case id");
  refuse_unknown_keys(record, {"id", "site", "split", "images", "mask", "labels", "aliases", "patient", "label_convention"},
                     where, "field");
  c.site = text_field(record, "site", where);
  check_file_name(c.site, "site", where);
  c.split = text_field(record, "split", where);
  if (!kSplits.count(c.split))
    throw DataError(where + ": split \"" + c.split +
                    "\" is not one of train, val, test, external");
  read_case_images(record, base_dir, where, c);
  read_case_labels(record, where, c.labels);
  c.aliases = read_case_aliases(record, where);
  if (record.contains("patient")) c.patient = text_field(record, "patient", where);
  if (record.contains("label_convention")) {
    c.label_convention = text_field(record, "label_convention", where);
    try {
      label_convention(c.label_convention);
    } catch (const DataError& e) {
      throw DataError(where + ": " + e.what());
    }
  }
  return c;
}

}  // namespace

std::optional<int> Labels::binary(std::size_t m) const {
  switch (m) {
    case 0: return idh;
    case 1: return codeletion_1p19q;
    case 2: return mgmt;
    case 3: return grade ? std::optional<int>(*grade == 4 ? 1 : 0) : std::nullopt;
    default: return std::nullopt;
  }
}

Manifest load_manifest(const fs::path& path) {
  const std::string file = "'" + path.string() + "'";
  const json doc = read_document(path, file);
  Manifest manifest;
  manifest.base_dir = fs::absolute(path).parent_path();
  std::set<std::string> seen;
  std::size_t index = 0;
  for (const json& record : doc.at("cases")) {
    const std::string where_index = file + " case #" + std::to_string(index++);
    manifest.cases.push_back(read_case(record, file, where_index, manifest.base_dir, seen));
  }
  return manifest;
}

void save_manifest(const Manifest& manifest, const fs::path& path) {
  const fs::path base = fs::absolute(path).parent_path();
  json cases = json::array();
  for (const Case& c : manifest.cases) {
    json images = json::object();
    for (std::size_t m = 0; m < kModalities.size(); ++m) {
      const std::string file = relative_if_under(c.images[m], base);
      images[kModalities[m]] = c.channels[m] < 0 ? json(file) : json{{"file", file}, {"channel", c.channels[m]}};
    }
    json record = {{"id", c.id},
                   {"site", c.site},
                   {"split", c.split},
                   {"images", images},
                   {"mask", c.mask ? json(relative_if_under(*c.mask, base)) : json(nullptr)},
                   {"labels",
                    {{"idh", label_json(c.labels.idh)},
                     {"codeletion_1p19q", label_json(c.labels.codeletion_1p19q)},
                     {"mgmt", label_json(c.labels.mgmt)},
                     {"grade", label_json(c.labels.grade)}}}};
    if (!c.aliases.empty()) record["aliases"] = c.aliases;
    if (!c.patient.empty()) record["patient"] = c.patient;
    if (!c.label_convention.empty()) record["label_convention"] = c.label_convention;
    cases.push_back(std::move(record));
  }
  write_file_atomic(path, json{{"version", 1}, {"cases", cases}}.dump(2) + "\n");
}

}  // namespace fedglioma::data
