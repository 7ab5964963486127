// The golden-numbers test: a tiny run's metrics pinned to full precision. It holds on every
// x86-64 CPU with AVX2 (runtime.cpu_numerics: portable pins ATen and oneDNN to AVX2 kernels) and
// fails wherever that promise breaks. Regenerate the values only when training itself changes,
// and say so in the commit: a failure prints the new table, ready to paste.
#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

#include "tests/support/fixtures.h"

using nlohmann::json;

namespace {

struct Golden {
  const char* path;  // a JSON pointer into the round's line
  double value;
};

// 16^3, depth 2, 2 sites x 6 cases (+4 external), 2 rounds of FedAvg, seed 3, one worker.
// A null metric (an AUC over one class) is written as -1.
const std::vector<std::vector<Golden>> kGolden = {
    // round 1
    {
        {"/clients/0/train_loss", 5.3914601802825928},
        {"/clients/1/train_loss", 4.4178140163421631},
        {"/eval/external/dice_mean", 0.043084740526080578},
        {"/eval/external/dice_median", 0.04341865801189787},
        {"/eval/external/hd95_median", 125.54417410794545},
        {"/eval/external/auc/idh", 0.5},
        {"/eval/external/auc/codeletion_1p19q", -1},
        {"/eval/external/auc/mgmt", 1},
        {"/eval/external/auc/grade", 0.75},
        {"/eval/val/dice_mean", 0.03437007504488309},
        {"/eval/val/auc/idh", 0.5},
        {"/eval/val/auc/grade", 0.5},
    },
    // round 2
    {
        {"/clients/0/train_loss", 5.1696696281433105},
        {"/clients/1/train_loss", 4.2891664505004883},
        {"/eval/external/dice_mean", 0.043080890621474521},
        {"/eval/external/dice_median", 0.04341865801189787},
        {"/eval/external/hd95_median", 125.54417410794545},
        {"/eval/external/auc/idh", 0.75},
        {"/eval/external/auc/codeletion_1p19q", -1},
        {"/eval/external/auc/mgmt", 1},
        {"/eval/external/auc/grade", 0.5},
        {"/eval/val/dice_mean", 0.034368197491410367},
        {"/eval/val/auc/idh", 0},
        {"/eval/val/auc/grade", 1},
    },
};

const std::vector<std::string> kPaths = {
    "/clients/0/train_loss",
    "/clients/1/train_loss",
    "/eval/external/dice_mean",
    "/eval/external/dice_median",
    "/eval/external/hd95_median",
    "/eval/external/auc/idh",
    "/eval/external/auc/codeletion_1p19q",
    "/eval/external/auc/mgmt",
    "/eval/external/auc/grade",
    "/eval/val/dice_mean",
    "/eval/val/auc/idh",
    "/eval/val/auc/grade",
};

// FNV-1a over the whole metrics line (every number, every CI): pins what the table leaves out.
std::uint64_t fingerprint(const std::string& text) {
  std::uint64_t h = 1469598103934665603ull;
  for (unsigned char c : text) h = (h ^ c) * 1099511628211ull;
  return h;
}

const std::vector<std::uint64_t> kFingerprint = {5165313651209188670ull, 1024385738283644123ull};

}  // namespace

TEST_CASE("golden numbers: a tiny run's metrics are pinned to full precision", "[sim][golden][slow]") {
  const auto rounds = fedglioma::testing::read_rounds(fedglioma::testing::tiny_run("golden", {}));
  REQUIRE(rounds.size() == 2);
  std::string table = "actual values (paste into kGolden and kFingerprint if training changed on purpose):\n";
  bool same = true;
  for (std::size_t r = 0; r < rounds.size(); ++r) {
    const json line = fedglioma::testing::metrics_of(rounds[r]);
    table += "    // round " + std::to_string(r + 1) + "\n    {\n";
    for (std::size_t k = 0; k < kPaths.size(); ++k) {
      const json& v = line.at(json::json_pointer(kPaths[k]));
      const double actual = v.is_null() ? -1.0 : v.get<double>();
      char row[160];
      std::snprintf(row, sizeof row, "        {\"%s\", %.17g},\n", kPaths[k].c_str(), actual);
      table += row;
      same = same && k < kGolden[r].size() && kGolden[r][k].path == kPaths[k] && kGolden[r][k].value == actual;
    }
    char row[64];
    std::snprintf(row, sizeof row, "    },  // fingerprint %lluull\n",
                  static_cast<unsigned long long>(fingerprint(line.dump())));
    table += row;
    same = same && fingerprint(line.dump()) == kFingerprint[r];
  }
  INFO(table);
  REQUIRE(same);
}
