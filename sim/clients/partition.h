#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "data/dataset.h"
#include "sim/config/experiment_config.h"

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

/// Clients from the cases of split "train" (and "val"), by `config.scheme`:
/// - natural: one client per site (dataset or institution), named by the site;
/// - iid: `num_clients` clients dealt the shuffled training cases in turn;
/// - dirichlet: for each class of the marker `config.label` (unknown labels form a class of
///   their own), client shares drawn from Dirichlet(alpha) (Hsu et al. 2019);
/// - quantity: client sizes drawn from Dirichlet(alpha), cases shuffled.
/// Synthetic clients are named client-0, client-1, ... and need at least two cases each (one
/// when val_fraction is 0); Dirichlet draws are repeated until they have them. Then from each
/// client round(val_fraction * n) of its cases (at least one when val_fraction > 0 and it has
/// two or more) are held out for validation, chosen by a generator keyed by the client's index;
/// the manifest's "val" cases are added to them. Every draw comes from the run's seed. In "centralized" mode the clients' training cases
/// are pooled into one client, "pooled", with the same validation cases.
/// Throws ConfigError when no client has training cases.
Partition make_partition(const std::vector<data::Sample>& samples, const PartitionConfig& config,
                         const std::string& mode, std::uint64_t seed);

}  // namespace fedglioma::sim
