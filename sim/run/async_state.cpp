#include "sim/run/async_state.h"

#include <algorithm>
#include <sstream>
#include <stdexcept>
#include <string>

#include "core/double_text.h"
#include "core/error.h"

namespace fedglioma::sim {
namespace {

std::string in_flight_text(const std::vector<InFlight>& jobs) {
  std::ostringstream out;
  for (const InFlight& j : jobs)
    out << j.client << ' ' << j.seq << ' ' << j.base_version << ' ' << j.participation << ' ' << double_bits(j.dispatched)
        << ' ' << double_bits(j.arrival) << '\n';
  return out.str();
}

std::vector<InFlight> in_flight_from(const std::string& text) {
  std::vector<InFlight> jobs;
  std::istringstream in(text);
  InFlight j;
  for (std::int64_t dispatched = 0, arrival = 0;
       in >> j.client >> j.seq >> j.base_version >> j.participation >> dispatched >> arrival;) {
    j.dispatched = double_from_bits(dispatched);
    j.arrival = double_from_bits(arrival);
    jobs.push_back(j);
  }
  if (!in.eof()) throw std::invalid_argument("in-flight clients");
  return jobs;
}

}  // namespace

bool arrives_before(const InFlight& a, const InFlight& b) {
  if (a.arrival != b.arrival) return a.arrival < b.arrival;
  if (a.client != b.client) return a.client < b.client;
  return a.seq < b.seq;
}

const InFlight& AsyncState::earliest() const {
  if (in_flight.empty()) throw std::logic_error("the asynchronous server has no client in flight");
  return *std::min_element(in_flight.begin(), in_flight.end(), arrives_before);
}

InFlight AsyncState::take(std::uint64_t seq) {
  const auto it = std::find_if(in_flight.begin(), in_flight.end(), [&](const InFlight& j) { return j.seq == seq; });
  if (it == in_flight.end()) throw std::logic_error("no participation " + std::to_string(seq) + " in flight");
  const InFlight job = *it;
  in_flight.erase(it);
  return job;
}

void AsyncState::release_models(const std::vector<std::int64_t>& keep) {
  for (auto it = models.begin(); it != models.end();) {
    const std::int64_t v = it->first;
    const bool used = std::any_of(in_flight.begin(), in_flight.end(), [&](const InFlight& j) { return j.base_version == v; }) ||
                      std::find(keep.begin(), keep.end(), v) != keep.end();
    it = used ? std::next(it) : models.erase(it);
  }
}

void AsyncState::save(StateBundle& out) const {
  out.integers["async/version"] = version;
  out.integers["async/now"] = double_bits(now);
  out.integers["async/next_seq"] = static_cast<std::int64_t>(next_seq);
  std::string counts;
  for (int p : participations) counts += std::to_string(p) + " ";
  out.texts["async/participations"] = counts;
  out.texts["async/in_flight"] = in_flight_text(in_flight);
  for (const auto& [v, model] : models) out.buffers["async/model/" + std::to_string(v)] = *model;
}

void AsyncState::load(const StateBundle& in) {
  const auto version_it = in.integers.find("async/version");
  if (version_it == in.integers.end() || !in.integers.count("async/now") || !in.integers.count("async/next_seq") ||
      !in.texts.count("async/participations") || !in.texts.count("async/in_flight"))
    throw IoError("the checkpoint holds no asynchronous server state (in-flight clients, clock)");
  AsyncState s;
  s.version = version_it->second;
  s.now = double_from_bits(in.integers.at("async/now"));
  s.next_seq = static_cast<std::uint64_t>(in.integers.at("async/next_seq"));
  std::istringstream counts(in.texts.at("async/participations"));
  for (int p = 0; counts >> p;) s.participations.push_back(p);
  try {
    s.in_flight = in_flight_from(in.texts.at("async/in_flight"));
  } catch (const std::invalid_argument&) {
    throw IoError("the checkpoint's asynchronous server state is damaged (its in-flight clients)");
  }
  for (const InFlight& j : s.in_flight) {
    const auto model = in.buffers.find("async/model/" + std::to_string(j.base_version));
    if (model == in.buffers.end())
      throw IoError("the checkpoint's asynchronous server state lacks the model of version " +
                    std::to_string(j.base_version) + " that a client in flight started from");
    s.models.emplace(j.base_version, std::make_shared<const FlatParams>(model->second));
  }
  *this = std::move(s);
}

}  // namespace fedglioma::sim
