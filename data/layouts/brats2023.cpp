// The brats2023 layout: the BraTS 2023-2025 glioma task's case folders BraTS-GLI-NNNNN-TTT/, where
// TTT is a timepoint of patient NNNNN, in a release whose label convention the release decides.
#include <map>
#include <regex>
#include <set>

#include "core/error.h"
#include "data/layouts/layout_support.h"

namespace fedglioma::data {
namespace {

namespace fs = std::filesystem;

const std::regex& case_name() {
  static const std::regex name(R"(BraTS-([A-Za-z]+(?:-RT)?)-(\d{5})-(\d{3}))");
  return name;
}

// The BraTS tasks that share the glioma task's naming but are other diseases or populations.
std::string other_task(const std::string& task) {
  static const std::map<std::string, std::string> tasks = {
      {"MEN", "meningioma"},
      {"MET", "brain metastases"},
      {"PED", "paediatric brain tumours"},
      {"SSA", "the sub-Saharan Africa glioma task, a population and release of its own"},
      {"MEN-RT", "meningioma radiotherapy planning"},
      {"GoAT", "the generalisability task"}};
  const auto it = tasks.find(task);
  return it == tasks.end() ? "a BraTS task other than glioma" : it->second;
}

// The release years a folder's name gives ("ASNR-MICCAI-BraTS2023-GLI-..." -> 2023).
std::set<std::string> years_in(const fs::path& folder) {
  static const std::regex year(R"(BraTS[-_ ]?(20\d\d))", std::regex::icase);
  std::set<std::string> years;
  const std::string text = folder.filename().string();
  for (auto it = std::sregex_iterator(text.begin(), text.end(), year); it != std::sregex_iterator(); ++it)
    years.insert((*it)[1]);
  return years;
}

// The years the root's name and its release folders' names give (as Synapse's archives unpack:
// "ASNR-MICCAI-BraTS2023-GLI-Challenge-TrainingData/"); the folders above the root are not asked,
// since a project folder named for one year may hold another's data.
std::set<std::string> years_named(const fs::path& root, const std::vector<fs::path>& release_folders) {
  fs::path named = fs::absolute(root).lexically_normal();
  if (!named.has_filename()) named = named.parent_path();  // "--root X/"
  std::set<std::string> years = years_in(named);
  for (const auto& f : release_folders)
    for (const auto& y : years_in(f)) years.insert(y);
  return years;
}

// The release's label convention: --release, else the year the folders name; never the labels.
std::string release_convention(const LayoutOptions& o, const std::set<std::string>& named) {
  static const std::map<std::string, std::string> conventions = {
      {"2023", "brats2023"}, {"2024", "brats2024"}, {"2025", "brats2024"}};
  const std::string hint = "give --release 2023 (labels 1 necrotic core, 2 edema, 3 enhancing) or --release 2024 / "
                           "2025 (post-treatment: 4 = resection cavity, which is not tumour)";
  std::set<std::string> known;
  for (const auto& y : named)
    if (conventions.count(y)) known.insert(y);
  if (!o.release.empty()) {
    if (!conventions.count(o.release)) throw ConfigError("--release '" + o.release + "' is not one of 2023, 2024, 2025");
    if (!known.empty() && !known.count(o.release))
      throw ConfigError("--release " + o.release + ", but the folders of '" + o.root.string() + "' name BraTS " +
                        *known.begin() + "; check which release this is");
    return conventions.at(o.release);
  }
  if (known.size() == 1) return conventions.at(*known.begin());
  throw ConfigError("'" + o.root.string() + "': " +
                    (known.empty() ? std::string("its folders do not name the BraTS release")
                                   : "its folders name several BraTS releases") +
                    "; the labels differ between releases, so " + hint);
}

// The case folders: the root's, or those of its release folders (TrainingData, ValidationData).
std::vector<fs::path> case_folders(const fs::path& root, std::vector<fs::path>& release_folders) {
  std::vector<fs::path> cases;
  for (const auto& dir : subfolders(root)) {
    if (std::regex_match(dir.filename().string(), case_name())) {
      cases.push_back(dir);
      continue;
    }
    release_folders.push_back(dir);
    for (const auto& inner : subfolders(dir))
      if (std::regex_match(inner.filename().string(), case_name())) cases.push_back(inner);
  }
  return cases;
}

Manifest brats2023(const LayoutOptions& o, TableRows&) {
  if (!o.labels.empty())
    throw ConfigError("--labels: BraTS 2023+ ships no marker table; build this manifest, then join it to the "
                      "datasets that have markers with `fedglioma manifest --merge ... --crosswalk <mapping>.csv`");
  std::vector<fs::path> release_folders;
  const std::vector<fs::path> folders = case_folders(o.root, release_folders);
  const std::string convention = release_convention(o, years_named(o.root, release_folders));
  Manifest m;
  for (const auto& dir : folders) {
    const std::string id = dir.filename().string();
    std::smatch match;
    std::regex_match(id, match, case_name());
    if (match[1] != "GLI")
      throw DataError("'" + dir.string() + "': a BraTS-" + match[1].str() + " case (" + other_task(match[1]) +
                      "), not glioma; the brats2023 layout reads the glioma task's BraTS-GLI cases only");
    const auto file = [&](const char* suffix) { return dir / (id + "-" + suffix + ".nii.gz"); };
    const fs::path seg = file("seg");
    Case c = make_case(id, o.site, o.split, {file("t1n"), file("t1c"), file("t2w"), file("t2f")},
                       fs::exists(seg) ? std::optional<fs::path>(seg) : std::nullopt);
    c.patient = "BraTS-GLI-" + match[2].str();
    c.label_convention = convention;
    m.cases.push_back(std::move(c));
  }
  return m;
}

}  // namespace

LayoutEntry brats2023_layout() { return {"brats2023", brats2023, false}; }

}  // namespace fedglioma::data
