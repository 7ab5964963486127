#include "sim/partition.h"

#include <cmath>
#include <map>

#include "core/error.h"
#include "core/random.h"

namespace fedglioma::sim {

Partition make_partition(const std::vector<data::Sample>& samples, const PartitionConfig& config,
                         const std::string& mode, std::uint64_t seed) {
  Partition partition;
  std::map<std::string, Client> by_site;  // ordered by site id: the client order
  for (const data::Sample& s : samples) {
    if (s.split == "external") {
      partition.external.push_back(&s);
    } else if (s.split == "test") {
      partition.test.push_back(&s);
    } else {
      Client& c = by_site[s.site];
      c.id = s.site;
      (s.split == "val" ? c.val : c.train).push_back(&s);
    }
  }
  std::uint64_t index = 0;
  for (auto& [site, client] : by_site) {
    const std::size_t n = client.train.size();
    std::size_t held = static_cast<std::size_t>(std::lround(config.val_fraction * static_cast<double>(n)));
    if (config.val_fraction > 0 && held == 0 && n >= 2) held = 1;
    if (held >= n) held = n > 0 ? n - 1 : 0;
    if (held > 0) {
      Rng rng(derive_seed(seed, 0, index, RngPurpose::kValidationSplit));
      std::vector<std::size_t> order(n);
      for (std::size_t i = 0; i < n; ++i) order[i] = i;
      rng.shuffle(order);
      std::vector<bool> is_val(n, false);
      for (std::size_t i = 0; i < held; ++i) is_val[order[i]] = true;
      std::vector<const data::Sample*> train;
      for (std::size_t i = 0; i < n; ++i) (is_val[i] ? client.val : train).push_back(client.train[i]);
      client.train = std::move(train);
    }
    ++index;
    if (!client.train.empty()) partition.clients.push_back(std::move(client));
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
  return partition;
}

}  // namespace fedglioma::sim
