#include "sim/run/simulated_time.h"

#include <algorithm>
#include <set>
#include <utility>

#include "core/error.h"
#include "core/random.h"
#include "sim/run/fets_profiles.h"

namespace fedglioma::sim {
namespace {

double site_value(const std::map<std::string, double>& by_site, const std::string& client, double fallback) {
  const auto it = by_site.find(client);
  return it == by_site.end() ? fallback : it->second;
}

// FeTS's draw of a time: max(1, N(mean, sd)) seconds.
double fets_draw(Rng& rng, const Timing& t) { return std::max(1.0, t.mean + t.sd * rng.normal()); }

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

SiteClock::SiteClock(const SimulatedTimeConfig& config, std::vector<std::string> client_ids,
                     std::vector<std::size_t> samples, int local_epochs, double model_megabits, std::uint64_t seed)
    : config_(config),
      ids_(std::move(client_ids)),
      samples_(std::move(samples)),
      local_epochs_(local_epochs),
      model_megabits_(model_megabits),
      seed_(seed) {
  if (config_.profile != "fets2022") return;
  // As FeTS assigns them: one compute and one network profile per client, drawn with replacement.
  for (std::size_t i = 0; i < ids_.size(); ++i) {
    Rng rng(derive_seed(seed_, 0, i, RngPurpose::kSimulatedTime));
    compute_profile_.push_back(static_cast<std::size_t>(rng.below(fets_compute_profiles().size())));
    network_profile_.push_back(static_cast<std::size_t>(rng.below(fets_network_profiles().size())));
  }
}

Participation SiteClock::participation(std::size_t client, int round) const {
  const double work = static_cast<double>(samples_[client]) * local_epochs_;
  Participation p;
  Rng rng(derive_seed(seed_, static_cast<std::uint64_t>(round), client, RngPurpose::kSimulatedTime));
  if (config_.profile == "fets2022") {
    p.compute = work * fets_draw(rng, fets_compute_profiles()[compute_profile_[client]].train_per_patient);
    const FetsNetwork& net = fets_network_profiles()[network_profile_[client]];
    p.download = fets_draw(rng, net.download);
    p.upload = fets_draw(rng, net.upload);
  } else {
    p.compute = work / site_value(config_.site_samples_per_second, ids_[client], config_.samples_per_second);
    p.download = p.upload =
        model_megabits_ / site_value(config_.site_megabits_per_second, ids_[client], config_.megabits_per_second);
  }
  if (config_.jitter > 0) {
    const double factor = 1.0 + config_.jitter * (2.0 * rng.uniform() - 1.0);
    p.compute *= factor;
    p.download *= factor;
    p.upload *= factor;
  }
  return p;
}

void add_simulated_time(RoundRecord& record, const SiteClock& clock, const std::vector<std::string>& client_ids,
                        double deadline_s) {
  double slowest = 0.0, last_accepted = 0.0;
  bool any = false, late = false, surplus = false;
  for (ClientRecord& c : record.clients) {
    if (c.status == kDroppedOut) continue;  // it never trained, nor received the model
    const auto index = static_cast<std::size_t>(std::find(client_ids.begin(), client_ids.end(), c.id) - client_ids.begin());
    c.simulated_seconds = clock.participation(index, record.round).total();
    slowest = std::max(slowest, *c.simulated_seconds);
    any = true;
    late = late || c.status.rfind(kLate, 0) == 0;
    surplus = surplus || c.status.rfind(kSurplus, 0) == 0;
    if (c.status.rfind(kLate, 0) != 0 && c.status.rfind(kSurplus, 0) != 0)
      last_accepted = std::max(last_accepted, *c.simulated_seconds);
  }
  if (!any) return;
  // With extra clients selected, the round closes at its last accepted update; else a late client
  // keeps the server waiting until the deadline; else the slowest client ends it.
  record.simulated_seconds = surplus ? last_accepted : late ? deadline_s : slowest;
}

std::vector<std::string> client_ids(const Partition& partition) {
  std::vector<std::string> out;
  for (const Client& c : partition.clients) out.push_back(c.id);
  return out;
}

std::unique_ptr<SiteClock> make_site_clock(const ExperimentConfig& config, const Partition& partition,
                                           double model_megabits) {
  std::vector<std::size_t> samples;
  for (const Client& c : partition.clients) samples.push_back(c.train.size());
  return std::make_unique<SiteClock>(config.federation.simulated_time, client_ids(partition), samples,
                                     config.train.local_epochs, model_megabits, config.runtime.seed);
}

}  // namespace fedglioma::sim
