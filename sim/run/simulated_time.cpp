#include "sim/run/simulated_time.h"

#include <algorithm>
#include <set>
#include <utility>

#include "core/error.h"

namespace fedglioma::sim {
namespace {

double site_value(const std::map<std::string, double>& by_site, const std::string& client, double fallback) {
  const auto it = by_site.find(client);
  return it == by_site.end() ? fallback : it->second;
}

}  // namespace

void check_simulated_time_clients(const SimulatedTimeConfig& config, const std::vector<std::string>& client_ids) {
  const std::set<std::string> ids(client_ids.begin(), client_ids.end());
  std::string list;
  for (const std::string& id : client_ids) list += (list.empty() ? "" : ", ") + id;
  for (const auto& [name, by_client] : {std::pair{"site_samples_per_second", &config.site_samples_per_second},
                                        std::pair{"site_megabits_per_second", &config.site_megabits_per_second}})
    for (const auto& [client, value] : *by_client)
      if (!ids.count(client))
        throw ConfigError(std::string("federation.simulated_time.") + name + ": \"" + client +
                          "\" is not a client of this partition (its clients: " + list + ")");
}

void add_simulated_time(RoundRecord& record, const SimulatedTimeConfig& config, int local_epochs,
                        double model_megabits) {
  if (!config.enabled) return;
  for (ClientRecord& c : record.clients) {
    if (c.status == kDroppedOut) continue;  // it never trained, nor received the model
    const double work = static_cast<double>(c.samples) * local_epochs;
    c.simulated_seconds =
        work / site_value(config.site_samples_per_second, c.id, config.samples_per_second) +
        2.0 * model_megabits / site_value(config.site_megabits_per_second, c.id, config.megabits_per_second);
    record.simulated_seconds = std::max(record.simulated_seconds.value_or(0.0), *c.simulated_seconds);
  }
}

}  // namespace fedglioma::sim
