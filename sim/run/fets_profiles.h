#pragma once

#include <array>
#include <cstddef>

namespace fedglioma::sim {

/// A measured timing: mean and standard deviation, in seconds.
struct Timing {
  double mean = 0.0, sd = 0.0;
};

/// One FeTS compute profile: training seconds per patient and epoch (validation is not simulated:
/// fedglioma evaluates on the server).
struct FetsCompute {
  Timing train_per_patient;
};

/// One FeTS network profile: seconds to download and to upload the FeTS challenge's model once.
struct FetsNetwork {
  Timing download, upload;
};

/// The FeTS challenge's measured per-institution timings (federation.simulated_time.profile
/// "fets2022"): 21 compute and 16 network profiles, from FeTS-AI/Challenge
/// `Task_1/fets_challenge/experiment.py` (commit 1c12265, 2025-09-09), "derived from the actual
/// timing information in the real-world FeTS information"; rounded to 3 (compute) and 2
/// (network) decimals as ../shared/profiles/ publishes them.
const std::array<FetsCompute, 21>& fets_compute_profiles();
const std::array<FetsNetwork, 16>& fets_network_profiles();

}  // namespace fedglioma::sim
