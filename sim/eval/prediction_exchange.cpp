#include "sim/eval/prediction_exchange.h"

#include <array>
#include <cstdint>
#include <optional>

#include "core/byte_codec.h"
#include "sim/processes/processes.h"

namespace fedglioma::sim {
namespace {

void put_optional(ByteWriter& w, const std::optional<double>& v) {
  w.put<std::uint8_t>(v.has_value());
  w.put(v.value_or(0.0));
}

std::optional<double> get_optional(ByteReader& r) {
  const bool has = r.get<std::uint8_t>() != 0;
  const double v = r.get<double>();
  return has ? std::optional<double>(v) : std::nullopt;
}

}  // namespace

void exchange_predictions(Processes& processes, const std::vector<std::size_t>& mine,
                          std::vector<CasePrediction>& all) {
  ByteWriter w;
  w.put<std::uint64_t>(mine.size());
  for (std::size_t i : mine) {
    const CasePrediction& p = all[i];
    w.put<std::uint64_t>(i);
    put_optional(w, p.dice);
    put_optional(w, p.hd95);
    put_optional(w, p.volume_ml);
    put_optional(w, p.reference_volume_ml);
    for (const auto& region : {p.dice_tc, p.dice_et, p.hd95_tc, p.hd95_et}) put_optional(w, region);
    w.put<std::uint8_t>(p.finite);
    for (double prob : p.markers.prob) w.put(prob);
    w.put<std::uint8_t>(p.markers.grade.has_value());
    for (double g : p.markers.grade.value_or(std::array<double, 3>{})) w.put(g);
  }
  const std::string what = "the evaluation's predictions";
  for (const std::string& bytes : processes.allgather(w.take(), what)) {
    ByteReader r(bytes, what);
    for (auto n = r.get<std::uint64_t>(); n > 0; --n) {
      const auto i = static_cast<std::size_t>(r.get<std::uint64_t>());
      if (i >= all.size()) throw DistributedError(what + ": a prediction for case " + std::to_string(i) + " of " + std::to_string(all.size()));
      CasePrediction& p = all[i];
      p.dice = get_optional(r);
      p.hd95 = get_optional(r);
      p.volume_ml = get_optional(r);
      p.reference_volume_ml = get_optional(r);
      for (std::optional<double>* region : {&p.dice_tc, &p.dice_et, &p.hd95_tc, &p.hd95_et}) *region = get_optional(r);
      p.finite = r.get<std::uint8_t>() != 0;
      for (double& prob : p.markers.prob) prob = r.get<double>();
      const bool has_grade = r.get<std::uint8_t>() != 0;
      std::array<double, 3> grade{};
      for (double& g : grade) g = r.get<double>();
      p.markers.grade = has_grade ? std::optional<std::array<double, 3>>(grade) : std::nullopt;
    }
  }
}

}  // namespace fedglioma::sim
