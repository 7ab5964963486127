#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <vector>

#include "core/aggregate.h"
#include "core/state_bundle.h"

namespace fedglioma::sim {

/// One client's participation on the virtual clock, from the download of the global model to
/// its update's arrival at the server.
struct InFlight {
  std::size_t client = 0;
  std::uint64_t seq = 0;          ///< the dispatch's sequence number, unique in the run
  std::int64_t base_version = 0;  ///< the server version it downloaded
  int participation = 0;          ///< the client's n-th participation (1-based): keys its draws
  double dispatched = 0.0, arrival = 0.0;  ///< simulated seconds since the run's start
};

/// The order in which the server sees arrivals: by simulated time, then client id (index in
/// partition order), then sequence number. It alone decides the order in which updates are
/// applied, whatever the threads or processes that train them.
bool arrives_before(const InFlight& a, const InFlight& b);

/// The asynchronous server between two events (sim/run/async_loop.h): the server version, the
/// clock, the participations in flight and the global models they started from. At a server
/// step, where a checkpoint is taken, the buffer is empty by construction, and the in-flight
/// clients' results are not kept: training is a function of (base model, client, participation),
/// so a resumed run trains them again and gets the same bits.
struct AsyncState : BundlePart {
  std::int64_t version = 0;  ///< server steps applied
  double now = 0.0;          ///< the virtual clock: the time of the last event
  std::uint64_t next_seq = 0;
  std::vector<int> participations;  ///< per client: participations dispatched so far
  std::vector<InFlight> in_flight;  ///< in dispatch order
  /// The global models the in-flight clients started from, by version, shared between them.
  std::map<std::int64_t, std::shared_ptr<const FlatParams>> models;

  /// The next arrival (the earliest by arrives_before); std::logic_error when none is in flight.
  const InFlight& earliest() const;
  /// Removes the participation `seq` from in_flight; its base model stays (release_models).
  InFlight take(std::uint64_t seq);
  /// Forgets the base models no participation in flight (nor `keep`) starts from.
  void release_models(const std::vector<std::int64_t>& keep = {});

  /// Adds the state to a checkpoint under "async/" / restores it; IoError when `in` holds none
  /// or a damaged one.
  void save(StateBundle& out) const override;
  void load(const StateBundle& in) override;
};

}  // namespace fedglioma::sim
