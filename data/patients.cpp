#include "data/patients.h"

#include <algorithm>
#include <map>
#include <numeric>

#include "core/error.h"
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

// The patient (union-find root) of each case.
std::vector<std::size_t> patients_of(const std::vector<const Case*>& cases,
                                     const std::vector<std::pair<std::string, std::string>>& crosswalk) {
  PatientKeys keys;
  for (const Case* c : cases) {
    keys.key(c->id);
    for (const auto& a : c->aliases) keys.join(c->id, a);
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

std::vector<std::pair<std::string, std::string>> read_crosswalk(const std::filesystem::path& path) {
  const CsvTable t = CsvTable::read(path);
  if (t.header().size() < 2)
    throw DataError("'" + path.string() + "': a crosswalk needs two columns of ids, found " +
                    std::to_string(t.header().size()));
  std::vector<std::pair<std::string, std::string>> out;
  for (const auto& row : t.rows())
    if (!row[0].empty() && !row[1].empty()) out.emplace_back(row[0], row[1]);
  return out;
}

void check_patient_leakage(const Manifest& manifest) {
  std::vector<const Case*> cases;
  for (const auto& c : manifest.cases) cases.push_back(&c);
  const std::vector<std::size_t> patient = patients_of(cases, {});
  std::map<std::size_t, const Case*> trained;  // patient -> a train/val case
  for (std::size_t i = 0; i < cases.size(); ++i)
    if (cases[i]->split == "train" || cases[i]->split == "val") trained.emplace(patient[i], cases[i]);
  for (std::size_t i = 0; i < cases.size(); ++i) {
    if (cases[i]->split != "external" && cases[i]->split != "test") continue;
    const auto it = trained.find(patient[i]);
    if (it != trained.end())
      throw ConfigError("case '" + cases[i]->id + "' (" + cases[i]->split + ") and case '" + it->second->id + "' (" +
                        it->second->split +
                        ") are the same patient: held-out cases must not be trained on (deduplicate with "
                        "`fedglioma manifest --merge`, or move one of them)");
  }
}

}  // namespace fedglioma::data
