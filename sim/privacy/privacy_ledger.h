#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "core/rdp_accountant.h"
#include "core/state_bundle.h"

namespace fedglioma::sim {

/// Every site's own privacy account (individual accounting, Feldman and Zrnic 2021, "Individual
/// Privacy Accounting via a Renyi Filter", with each release's full sensitivity): a release of
/// the mechanism is charged, as one step of the subsampled Gaussian (q, z), to the sites it could
/// expose. Under central DP with Poisson sampling that is every site every round (equal
/// accounts); under local DP, and where participation is not sampled (FedBuff), only the sites
/// whose updates entered the release, without amplification (q = 1). The run's epsilon is its
/// most exposed site's.
class PrivacyLedger {
 public:
  PrivacyLedger(std::vector<std::string> site_ids, double delta);

  /// Charges one release of the mechanism (q, z) to each site in `sites`.
  void charge(const std::vector<std::size_t>& sites, double q, double z);
  /// A site's guarantee so far, and the run's (its largest).
  PrivacySpent site(std::size_t i) const;
  PrivacySpent run() const;
  /// Site i's epsilon after one more release (q, z) charged to it, without charging it.
  double site_after(std::size_t i, double q, double z) const;
  /// The run's epsilon after one more release (q, z) charged to `sites`, without charging it.
  double run_after(const std::vector<std::size_t>& sites, double q, double z) const;

  const std::vector<std::string>& site_ids() const { return ids_; }
  double delta() const { return delta_; }

  /// The accounts under "dp/rdp/<site>" of a checkpoint / restored from one (IoError when absent
  /// or of another length).
  void save(StateBundle& out) const;
  void load(const StateBundle& in);

 private:
  std::vector<std::string> ids_;
  double delta_;
  std::vector<RdpAccountant> accounts_;
};

}  // namespace fedglioma::sim
