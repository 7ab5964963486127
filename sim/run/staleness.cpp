#include "sim/run/staleness.h"

#include <cmath>
#include <stdexcept>

namespace fedglioma::sim {

double staleness_weight(const StalenessConfig& config, std::int64_t tau) {
  const double t = static_cast<double>(tau);
  if (config.function == "constant") return 1.0;
  if (config.function == "polynomial") return 1.0 / std::pow(1.0 + t, config.exponent);
  if (config.function == "hinge") return t <= config.hinge_b ? 1.0 : 1.0 / (config.hinge_a * (t - config.hinge_b) + 1.0);
  throw std::logic_error("federation.staleness.function: unknown '" + config.function + "'");
}

}  // namespace fedglioma::sim
