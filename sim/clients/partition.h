#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "data/dataset.h"
#include "sim/clients/label_counts.h"
#include "sim/config/experiment_config.h"

namespace fedglioma::sim {

/// A virtual client: its training cases and the validation cases held out of them.
struct Client {
  std::string id;
  std::vector<const data::Sample*> train;
  std::vector<const data::Sample*> val;
  LabelCounts labelled;  ///< what its training cases label, counted once per run
};

/// Who trains on what, and what is held out.
struct Partition {
  std::vector<Client> clients;                 ///< in client-id order (the aggregation order)
  std::vector<const data::Sample*> external;   ///< split "external": never trained on
  std::vector<const data::Sample*> test;       ///< split "test": never trained on
};

/// Clients from the cases of split "train" (and "val"), by `config.scheme`. Every draw deals
/// patients, not cases: the cases of one patient (Sample::patient, a BraTS 2023 patient's
/// timepoints) go to one client and to one side of its validation hold-out.
/// - natural: one client per site (dataset or institution), named by the site;
/// - iid: `num_clients` clients dealt the shuffled training cases in turn;
/// - dirichlet: for each class of the marker `config.label` (unknown labels form a class of
///   their own), client shares drawn from Dirichlet(alpha) (Hsu et al. 2019);
/// - quantity: client sizes drawn from Dirichlet(alpha), cases shuffled.
/// Synthetic clients are named client-0, client-1, ... and need at least two patients each (one
/// when val_fraction is 0); Dirichlet draws are repeated until they have them. Then from each
/// client round(val_fraction * n) of its n patients (at least one when val_fraction > 0 and it
/// has two or more) are held out for validation, chosen by a generator keyed by the client's index;
/// the manifest's "val" cases are added to them. Every draw comes from the run's seed. In "centralized" mode the clients' training cases
/// are pooled into one client, "pooled", with the same validation cases.
/// Throws ConfigError when no client has training cases.
Partition make_partition(const std::vector<data::Sample>& samples, const PartitionConfig& config,
                         const std::string& mode, std::uint64_t seed);

/// A partition by case position: what a run draws once from its manifest (whose positions are
/// its SampleStore's) and carries to the cases it loads, so nothing is drawn twice.
struct PartitionPositions {
  struct Member {
    std::string id;
    std::vector<std::size_t> train, val;
    LabelCounts labelled;
  };
  std::vector<Member> clients;
  std::vector<std::size_t> external, test;
};

/// `partition`'s cases as positions in `cases`, the vector it was drawn from.
PartitionPositions positions_of(const Partition& partition, const std::vector<data::Sample>& cases);

/// The partition of `positions` over `cases` (the same cases in the same order, loaded).
Partition bind_partition(const PartitionPositions& positions, const std::vector<data::Sample>& cases);

}  // namespace fedglioma::sim
