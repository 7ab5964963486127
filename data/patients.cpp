#include "data/patients.h"

#include <algorithm>
#include <map>
#include <numeric>
#include <optional>
#include <regex>

#include "core/error.h"
#include "core/hash.h"
#include "data/csv_table.h"

namespace fedglioma::data {
namespace {

// Union-find over string keys (case ids and aliases).
class PatientKeys {
 public:
  std::size_t key(const std::string& name) {
    const auto [it, inserted] = index_.emplace(name, parent_.size());
    if (inserted) parent_.push_back(parent_.size());
    return it->second;
  }
  std::size_t root(std::size_t k) {
    while (parent_[k] != k) k = parent_[k] = parent_[parent_[k]];
    return k;
  }
  void join(const std::string& a, const std::string& b) {
    const std::size_t ra = root(key(a)), rb = root(key(b));
    if (ra != rb) parent_[std::max(ra, rb)] = std::min(ra, rb);
  }

 private:
  std::map<std::string, std::size_t> index_;
  std::vector<std::size_t> parent_;
};

// The patient (union-find root) of each case. Merging joins the records of one scan (ids, aliases,
// crosswalk); the leakage check also joins a patient's scans (`timepoints`: Case::patient).
std::vector<std::size_t> patients_of(const std::vector<const Case*>& cases,
                                     const std::vector<std::pair<std::string, std::string>>& crosswalk,
                                     bool timepoints = false) {
  PatientKeys keys;
  for (const Case* c : cases) {
    keys.key(c->id);
    for (const auto& a : c->aliases) keys.join(c->id, a);
    if (timepoints && !c->patient.empty()) keys.join(c->id, "patient:" + c->patient);
  }
  for (const auto& [a, b] : crosswalk) keys.join(a, b);
  std::vector<std::size_t> out;
  for (const Case* c : cases) out.push_back(keys.root(keys.key(c->id)));
  return out;
}

void fill(std::optional<int>& kept, const std::optional<int>& other, const char* name, const Case& from,
          MergedPatient& report) {
  if (!other) return;
  if (!kept) {
    kept = other;
  } else if (*kept != *other) {
    report.conflicts.push_back(std::string(name) + ": " + report.kept + " has " + std::to_string(*kept) + ", " +
                               from.id + " has " + std::to_string(*other));
  }
}

}  // namespace

Manifest merge_manifests(const std::vector<Manifest>& inputs,
                         const std::vector<std::pair<std::string, std::string>>& crosswalk, MergeReport* report) {
  std::vector<const Case*> all;
  for (const auto& m : inputs)
    for (const auto& c : m.cases) all.push_back(&c);
  const std::vector<std::size_t> patient = patients_of(all, crosswalk);

  Manifest out;
  MergeReport local;
  local.cases_in = all.size();
  std::map<std::size_t, std::size_t> kept_index;  // patient -> index in out.cases
  std::map<std::size_t, std::size_t> report_index;
  for (std::size_t i = 0; i < all.size(); ++i) {
    const auto found = kept_index.find(patient[i]);
    if (found == kept_index.end()) {
      kept_index[patient[i]] = out.cases.size();
      out.cases.push_back(*all[i]);
      continue;
    }
    Case& kept = out.cases[found->second];
    if (!report_index.count(patient[i])) {
      report_index[patient[i]] = local.merged.size();
      local.merged.push_back({kept.id, {}, {}});
    }
    MergedPatient& r = local.merged[report_index[patient[i]]];
    const Case& other = *all[i];
    r.dropped.push_back(other.id);
    fill(kept.labels.idh, other.labels.idh, "idh", other, r);
    fill(kept.labels.codeletion_1p19q, other.labels.codeletion_1p19q, "codeletion_1p19q", other, r);
    fill(kept.labels.mgmt, other.labels.mgmt, "mgmt", other, r);
    fill(kept.labels.grade, other.labels.grade, "grade", other, r);
    if (!kept.mask && other.mask) {  // a mask is never dropped for want of one
      kept.mask = other.mask;
      kept.label_convention = other.label_convention;
    }
    if (kept.patient.empty()) kept.patient = other.patient;
    if (kept.split != other.split)
      r.conflicts.push_back("split: " + kept.id + " is " + kept.split + ", " + other.id + " is " + other.split);
    auto add_alias = [&kept](const std::string& name) {
      if (name != kept.id && std::find(kept.aliases.begin(), kept.aliases.end(), name) == kept.aliases.end())
        kept.aliases.push_back(name);
    };
    add_alias(other.id);
    for (const auto& a : other.aliases) add_alias(a);
  }
  local.cases_out = out.cases.size();
  if (report) *report = std::move(local);
  return out;
}

namespace {

// A header cell without the spaces around it, the no-break space (U+00A0) included.
std::string trimmed(std::string text) {
  const auto space_at_end = [&] {
    if (!text.empty() && (text.back() == ' ' || text.back() == '\t')) return std::size_t{1};
    return text.size() >= 2 && text.compare(text.size() - 2, 2, "\xC2\xA0") == 0 ? std::size_t{2} : std::size_t{0};
  };
  for (std::size_t n = space_at_end(); n > 0; n = space_at_end()) text.erase(text.size() - n);
  std::size_t start = 0;
  while (start < text.size() && (text[start] == ' ' || text[start] == '\t')) ++start;
  return text.substr(start);
}

bool is_id(const std::string& cell) { return !cell.empty() && cell != "N/A" && cell != "NA" && cell != "n/a"; }

// An official BraTS mapping table: its id columns (BraTS20NN, Local ID) and its site column.
Crosswalk read_brats_mapping(const CsvTable& t, const std::vector<std::size_t>& ids, std::optional<std::size_t> site) {
  Crosswalk out;
  for (std::size_t r = 0; r < t.rows().size(); ++r) {
    std::vector<std::string> row_ids;
    for (const std::size_t c : ids)
      if (is_id(t.rows()[r][c])) row_ids.push_back(t.rows()[r][c]);
    for (std::size_t i = 1; i < row_ids.size(); ++i) out.pairs.emplace_back(row_ids[0], row_ids[i]);
    if (!site || !is_id(t.rows()[r][*site])) continue;
    const std::string number = t.rows()[r][*site];
    if (number.find_first_not_of("0123456789") != std::string::npos)
      throw DataError(t.where(r, *site) + ": site number '" + number + "' is not a whole number");
    for (const std::string& id : row_ids) out.sites[id] = "site-" + number;
  }
  return out;
}

}  // namespace

Crosswalk read_crosswalk(const std::filesystem::path& path) {
  const CsvTable t = CsvTable::read(path);
  std::vector<std::size_t> brats_ids, local_ids;
  std::optional<std::size_t> site;
  static const std::regex brats(R"(BraTS ?20\d\d( ID)?)", std::regex::icase);
  for (std::size_t c = 0; c < t.header().size(); ++c) {
    const std::string name = trimmed(t.header()[c]);
    if (std::regex_match(name, brats)) brats_ids.push_back(c);
    if (name == "Local ID") local_ids.push_back(c);
    if (name.rfind("Site No", 0) == 0) site = c;
  }
  if (!brats_ids.empty()) {
    brats_ids.insert(brats_ids.end(), local_ids.begin(), local_ids.end());
    return read_brats_mapping(t, brats_ids, site);
  }
  if (t.header().size() < 2)
    throw DataError("'" + path.string() + "': a crosswalk needs two columns of ids, found " +
                    std::to_string(t.header().size()));
  Crosswalk out;
  for (const auto& row : t.rows())
    if (!row[0].empty() && !row[1].empty()) out.pairs.emplace_back(row[0], row[1]);
  return out;
}

namespace {

std::vector<std::filesystem::path> files_of(const Case& c) {
  std::vector<std::filesystem::path> files(c.images.begin(), c.images.end());
  if (c.mask) files.push_back(*c.mask);
  return files;
}

// The training or validation case whose image or mask file is also one of `held_out`'s, by path
// or by contents, and a description of the shared file; nullptr when none.
class SharedFiles {
 public:
  explicit SharedFiles(const std::vector<const Case*>& trained) {
    for (const Case* c : trained)
      for (const auto& file : files_of(*c)) {
        std::error_code ec;
        const auto size = std::filesystem::file_size(file, ec);
        if (ec) continue;
        by_path_.emplace(std::filesystem::weakly_canonical(file, ec).string(), Owner{c, file});
        by_size_[size].push_back({c, file});
      }
  }

  std::pair<const Case*, std::string> find(const Case& held_out) {
    for (const auto& file : files_of(held_out)) {
      std::error_code ec;
      const auto size = std::filesystem::file_size(file, ec);
      if (ec) continue;
      const auto same = by_path_.find(std::filesystem::weakly_canonical(file, ec).string());
      if (same != by_path_.end()) return {same->second.owner, "both use the file '" + file.string() + "'"};
      const auto sized = by_size_.find(size);
      if (sized == by_size_.end()) continue;
      for (const Owner& other : sized->second)
        if (sample(other.file) == sample(file) && hash(other.file) == hash(file))
          return {other.owner, "'" + file.string() + "' and '" + other.file.string() + "' have identical contents"};
    }
    return {nullptr, {}};
  }

 private:
  struct Owner {
    const Case* owner;
    std::filesystem::path file;
  };
  // Lazily, and the whole file only when a sample of it already matched: uncompressed .nii files
  // of one grid all share a size, and hashing each in full took 20 s for a small cohort.
  std::uint64_t hash(const std::filesystem::path& file) { return cached(hashes_, file, file_content_hash); }
  std::uint64_t sample(const std::filesystem::path& file) { return cached(samples_, file, file_sample_hash); }
  static std::uint64_t cached(std::map<std::string, std::uint64_t>& memo, const std::filesystem::path& file,
                              std::uint64_t (*compute)(const std::filesystem::path&)) {
    const auto it = memo.find(file.string());
    if (it != memo.end()) return it->second;
    return memo[file.string()] = compute(file);
  }
  std::map<std::string, Owner> by_path_;
  std::map<std::uintmax_t, std::vector<Owner>> by_size_;
  std::map<std::string, std::uint64_t> hashes_, samples_;
};

[[noreturn]] void refuse_leak(const Case& held_out, const Case& trained, const std::string& why) {
  throw ConfigError("case '" + held_out.id + "' (" + held_out.split + ") and case '" + trained.id + "' (" +
                    trained.split + ") are the same patient" + (why.empty() ? "" : " (" + why + ")") +
                    ": held-out cases must not be trained on (deduplicate with `fedglioma manifest --merge`, or "
                    "move one of them)");
}

}  // namespace

void check_patient_leakage(const Manifest& manifest) {
  std::vector<const Case*> cases, trained_cases;
  for (const auto& c : manifest.cases) cases.push_back(&c);
  const std::vector<std::size_t> patient = patients_of(cases, {}, true);
  std::map<std::size_t, const Case*> trained;  // patient -> a train/val case
  for (std::size_t i = 0; i < cases.size(); ++i)
    if (cases[i]->split == "train" || cases[i]->split == "val") {
      trained.emplace(patient[i], cases[i]);
      trained_cases.push_back(cases[i]);
    }
  SharedFiles shared(trained_cases);
  for (std::size_t i = 0; i < cases.size(); ++i) {
    if (cases[i]->split != "external" && cases[i]->split != "test") continue;
    const auto it = trained.find(patient[i]);
    if (it != trained.end()) refuse_leak(*cases[i], *it->second, "");
    const auto [owner, why] = shared.find(*cases[i]);
    if (owner) refuse_leak(*cases[i], *owner, why);
  }
}

}  // namespace fedglioma::data
