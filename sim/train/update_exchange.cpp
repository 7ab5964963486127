#include "sim/train/update_exchange.h"

#include <cstdint>

#include "core/byte_codec.h"
#include "sim/processes/processes.h"

namespace fedglioma::sim {

namespace {

void put_update(ByteWriter& w, const ClientUpdate& u) {
  w.put_array(u.params);
  w.put<std::uint8_t>(u.kind == UpdateKind::kDifference);
  w.put(u.base_version);
  w.put(u.weight);
  w.put<std::uint64_t>(u.samples);
  w.put(u.train_loss);
  w.put(u.steps);
  w.put(u.lr);
  w.put(u.skipped_steps);
  w.put(u.io_wait_seconds);
  w.put(u.seconds);
  w.put_text(u.optimizer_state);
  w.put_array(u.personal);
}

ClientUpdate get_update(ByteReader& r) {
  ClientUpdate u;
  u.params = r.get_array<float>();
  u.kind = r.get<std::uint8_t>() != 0 ? UpdateKind::kDifference : UpdateKind::kWeights;
  u.base_version = r.get<std::int64_t>();
  u.weight = r.get<double>();
  u.samples = static_cast<std::size_t>(r.get<std::uint64_t>());
  u.train_loss = r.get<double>();
  u.steps = r.get<std::int64_t>();
  u.lr = r.get<double>();
  u.skipped_steps = r.get<std::int64_t>();
  u.io_wait_seconds = r.get<double>();
  u.seconds = r.get<double>();
  u.optimizer_state = r.get_text();
  u.personal = r.get_array<float>();
  return u;
}

}  // namespace

std::vector<ClientResult> exchange_results(Processes& processes, const std::vector<ClientResult>& mine, int round) {
  ByteWriter w;
  w.put<std::uint64_t>(mine.size());
  for (const ClientResult& c : mine) {
    w.put<std::uint64_t>(c.index);
    w.put_text(c.error);
    if (c.error.empty()) put_update(w, c.update);
  }
  const std::string what = "round " + std::to_string(round) + "'s client updates";
  std::vector<ClientResult> all;
  for (const std::string& bytes : processes.allgather(w.take(), what)) {
    ByteReader r(bytes, what);
    for (auto n = r.get<std::uint64_t>(); n > 0; --n) {
      ClientResult c;
      c.index = static_cast<std::size_t>(r.get<std::uint64_t>());
      c.error = r.get_text();
      if (c.error.empty()) c.update = get_update(r);
      all.push_back(std::move(c));
    }
  }
  return all;
}

}  // namespace fedglioma::sim
