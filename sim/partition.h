#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "data/dataset.h"
#include "sim/experiment_config.h"

namespace fedglioma::sim {

/// A virtual client: its training cases and the validation cases held out of them.
struct Client {
  std::string id;
  std::vector<const data::Sample*> train;
  std::vector<const data::Sample*> val;
};

/// Who trains on what, and what is held out.
struct Partition {
  std::vector<Client> clients;                 ///< in client-id order (the aggregation order)
  std::vector<const data::Sample*> external;   ///< split "external": never trained on
  std::vector<const data::Sample*> test;       ///< split "test": never trained on
};

/// Natural partition: one client per site with "train" cases. From each site,
/// round(val_fraction * n) of its "train" cases (at least one when val_fraction > 0 and the site
/// has two or more) are held out for validation, chosen by a generator seeded from (seed, site);
/// the site's "val" cases are added to them. In "centralized" mode the clients' training cases
/// are pooled into one client, "pooled", with the same validation cases.
/// Throws ConfigError when no client has training cases.
Partition make_partition(const std::vector<data::Sample>& samples, const PartitionConfig& config,
                         const std::string& mode, std::uint64_t seed);

}  // namespace fedglioma::sim
