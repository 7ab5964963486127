#include "sim/clients/partition.h"

#include <cmath>
#include <algorithm>
#include <map>
#include <string>

#include "core/error.h"
#include "core/random.h"

namespace fedglioma::sim {

namespace {

// A patient's cases (a BraTS 2023 patient's timepoints; one case for most datasets): what a draw
// deals or holds out as one, so that no patient is split between clients or between training
// and validation. With one case per patient every draw is the one it was before units existed.
using Unit = std::vector<const data::Sample*>;

// `cases` grouped by Sample::patient, in the order of each patient's first case.
std::vector<Unit> patient_units(const std::vector<const data::Sample*>& cases) {
  std::vector<Unit> units;
  std::map<std::string, std::size_t> index;
  for (const data::Sample* s : cases) {
    const std::string& patient = s->patient.empty() ? s->id : s->patient;
    const auto [it, inserted] = index.emplace(patient, units.size());
    if (inserted) units.emplace_back();
    units[it->second].push_back(s);
  }
  return units;
}

void append(std::vector<const data::Sample*>& into, const Unit& unit) { into.insert(into.end(), unit.begin(), unit.end()); }

// Holds round(val_fraction * n) of `client`'s n training patients out for validation (at least
// one when val_fraction > 0 and it has two or more), chosen by a generator keyed by the client's index.
void hold_out_validation(Client& client, double val_fraction, std::uint64_t seed, std::uint64_t index) {
  const std::vector<Unit> units = patient_units(client.train);
  const std::size_t n = units.size();
  std::size_t held = static_cast<std::size_t>(std::lround(val_fraction * static_cast<double>(n)));
  if (val_fraction > 0 && held == 0 && n >= 2) held = 1;
  if (held >= n) held = n > 0 ? n - 1 : 0;
  if (held == 0) return;
  Rng rng(derive_seed(seed, 0, index, RngPurpose::kValidationSplit));
  std::vector<std::size_t> order(n);
  for (std::size_t i = 0; i < n; ++i) order[i] = i;
  rng.shuffle(order);
  std::vector<bool> is_val(n, false);
  for (std::size_t i = 0; i < held; ++i) is_val[order[i]] = true;
  std::vector<const data::Sample*> train;
  for (std::size_t i = 0; i < n; ++i) append(is_val[i] ? client.val : train, units[i]);
  client.train = std::move(train);
}

// Splits `units` (already shuffled) into consecutive runs of sizes proportional to `p`, with
// the split points floor(cumsum(p) * n) of the usual Dirichlet-partition recipe.
void split_by(const std::vector<Unit>& units, const std::vector<double>& p, std::vector<Client>& clients) {
  double cumulative = 0.0;
  std::size_t begin = 0;
  for (std::size_t k = 0; k < clients.size(); ++k) {
    cumulative += p[k];
    const std::size_t end = k + 1 == clients.size()
                                ? units.size()
                                : std::min(units.size(), static_cast<std::size_t>(cumulative * static_cast<double>(units.size())));
    for (std::size_t i = begin; i < std::max(begin, end); ++i) append(clients[k].train, units[i]);
    begin = std::max(begin, end);
  }
}

std::string client_name(std::size_t k, std::size_t count) {
  const std::size_t width = std::to_string(count - 1).size();
  std::string digits = std::to_string(k);
  return "client-" + std::string(width > digits.size() ? width - digits.size() : 0, '0') + digits;
}

// IID, Dirichlet or quantity-skew clients over the pooled training cases (manifest order).
std::vector<Client> synthetic_clients(const std::vector<const data::Sample*>& pool, const PartitionConfig& config,
                                      std::uint64_t seed) {
  const auto k = static_cast<std::size_t>(config.num_clients);
  const std::size_t minimum = config.val_fraction > 0 ? 2 : 1;  // patients: one may be held out
  const std::size_t patients = patient_units(pool).size();
  if (patients < k * minimum)
    throw ConfigError("partition.num_clients: " + std::to_string(k) + " clients need at least " +
                      std::to_string(k * minimum) + " training cases (patients), the manifest has " +
                      std::to_string(patients));
  // Dirichlet draws can leave a client (nearly) empty; as Flower Datasets' DirichletPartitioner
  // does, the draw is repeated (with the next generator state) until every client has enough.
  Rng rng(derive_seed(seed, 0, 0, RngPurpose::kPartition));
  for (int attempt = 0; attempt < 1000; ++attempt) {
    std::vector<Client> clients(k);
    for (std::size_t c = 0; c < k; ++c) clients[c].id = client_name(c, k);
    std::vector<Unit> units = patient_units(pool);
    if (config.scheme == "iid") {
      rng.shuffle(units);
      for (std::size_t i = 0; i < units.size(); ++i) append(clients[i % k].train, units[i]);
    } else if (config.scheme == "quantity") {
      rng.shuffle(units);
      split_by(units, rng.dirichlet(k, config.alpha), clients);
    } else {  // dirichlet over the classes of config.label (unknown labels form a group of their own)
      std::size_t marker = 0;
      while (marker < data::kMarkers.size() && config.label != data::kMarkers[marker]) ++marker;
      std::map<int, std::vector<Unit>> by_class;  // a patient's class: its first case's
      for (Unit& unit : units) by_class[unit.front()->labels.binary(marker).value_or(-1)].push_back(std::move(unit));
      for (auto& [label, members] : by_class) {
        rng.shuffle(members);
        split_by(members, rng.dirichlet(k, config.alpha), clients);
      }
    }
    bool enough = true;
    for (const Client& c : clients) enough = enough && patient_units(c.train).size() >= minimum;
    if (enough) {
      // Each client's cases in manifest order, so that only membership depends on the draw.
      for (Client& c : clients) {
        std::vector<const data::Sample*> ordered;
        for (const data::Sample* s : pool)
          if (std::find(c.train.begin(), c.train.end(), s) != c.train.end()) ordered.push_back(s);
        c.train = std::move(ordered);
      }
      return clients;
    }
  }
  throw ConfigError("partition.alpha: " + std::to_string(config.alpha) + " is too small to give each of " +
                    std::to_string(k) + " clients " + std::to_string(minimum) + " of " + std::to_string(pool.size()) +
                    " training cases in 1000 draws; raise partition.alpha or lower partition.num_clients");
}

}  // namespace

Partition make_partition(const std::vector<data::Sample>& samples, const PartitionConfig& config,
                         const std::string& mode, std::uint64_t seed) {
  Partition partition;
  std::map<std::string, Client> by_site;  // ordered by site id: the client order
  std::vector<const data::Sample*> pool;    // every training case, manifest order
  for (const data::Sample& s : samples) {
    if (s.split == "external") {
      partition.external.push_back(&s);
    } else if (s.split == "test") {
      partition.test.push_back(&s);
    } else {
      Client& c = by_site[s.site];
      c.id = s.site;
      (s.split == "val" ? c.val : c.train).push_back(&s);
      if (s.split != "val") pool.push_back(&s);
    }
  }
  std::vector<Client> clients;
  if (config.scheme == "natural") {
    for (auto& [site, client] : by_site) clients.push_back(std::move(client));
  } else {
    clients = synthetic_clients(pool, config, seed);
    // The manifest's "val" cases belong to no synthetic client; they stay validation cases,
    // listed with the first client (per-site metrics group them by their own site).
    for (auto& [site, client] : by_site)
      clients.front().val.insert(clients.front().val.end(), client.val.begin(), client.val.end());
  }
  for (std::size_t index = 0; index < clients.size(); ++index) {
    hold_out_validation(clients[index], config.val_fraction, seed, index);
    if (!clients[index].train.empty()) partition.clients.push_back(std::move(clients[index]));
  }
  if (partition.clients.empty())
    throw ConfigError("the manifest has no training cases (split \"train\") to form clients from");
  if (mode == "centralized") {
    Client pooled;
    pooled.id = "pooled";
    for (const Client& c : partition.clients) {
      pooled.train.insert(pooled.train.end(), c.train.begin(), c.train.end());
      pooled.val.insert(pooled.val.end(), c.val.begin(), c.val.end());
    }
    partition.clients = {pooled};
  }
  for (Client& c : partition.clients) c.labelled = label_counts(c.train);
  return partition;
}

namespace {

std::vector<std::size_t> positions(const std::vector<const data::Sample*>& members, const std::vector<data::Sample>& cases) {
  std::vector<std::size_t> out;
  for (const data::Sample* s : members) out.push_back(static_cast<std::size_t>(s - cases.data()));
  return out;
}

std::vector<const data::Sample*> bound(const std::vector<std::size_t>& positions, const std::vector<data::Sample>& cases) {
  std::vector<const data::Sample*> out;
  for (std::size_t i : positions) out.push_back(&cases.at(i));
  return out;
}

}  // namespace

PartitionPositions positions_of(const Partition& partition, const std::vector<data::Sample>& cases) {
  PartitionPositions out;
  for (const Client& c : partition.clients) out.clients.push_back({c.id, positions(c.train, cases), positions(c.val, cases), c.labelled});
  out.external = positions(partition.external, cases);
  out.test = positions(partition.test, cases);
  return out;
}

Partition bind_partition(const PartitionPositions& positions, const std::vector<data::Sample>& cases) {
  Partition out;
  for (const PartitionPositions::Member& m : positions.clients)
    out.clients.push_back({m.id, bound(m.train, cases), bound(m.val, cases), m.labelled});
  out.external = bound(positions.external, cases);
  out.test = bound(positions.test, cases);
  return out;
}

}  // namespace fedglioma::sim
