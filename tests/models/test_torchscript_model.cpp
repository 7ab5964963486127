// A network of the user's own, scripted in Python (model.name "torchscript"): trained, checkpointed,
// evaluated and predicted like the built-in one, identical whatever the worker count, and refused
// at start, with what is wrong, when it breaks the contract (docs/model.md, "Bring your own network").
#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include <sstream>

#include "core/atomic_file.h"
#include "core/error.h"
#include "experiments/cli_export_model.h"
#include "experiments/cli_predict.h"
#include "experiments/cli_run.h"
#include "models/model.h"
#include "models/model_factory.h"
#include "sim/state/model_state.h"
#include "tests/support/fixtures.h"

namespace fs = std::filesystem;
using Catch::Contains;
using nlohmann::json;
using namespace fedglioma;

namespace {

bool python_torch_missing() {
  std::string out;
  return testing::run_command("/usr/bin/python3 -c 'import torch'", &out) != 0;
}

// models/example_network.py scripted and saved once per test process (the docs' worked example).
const fs::path& example_network() {
  static const fs::path path = [] {
    const fs::path file = testing::temp_dir("torchscript-example") / "net.pt";
    std::string out;
    const std::string script = std::string(FEDGLIOMA_SOURCE_DIR) + "/models/example_network.py";
    if (testing::run_command("/usr/bin/python3 '" + script + "' '" + file.string() + "'", &out) != 0)
      throw std::runtime_error("example_network.py: " + out);
    return file;
  }();
  return path;
}

// The tiny config's run with the example network instead of the built-in one (the tiny config's
// U-Net keys set back to their defaults, which a TorchScript network leaves alone).
std::vector<std::string> with_network(const fs::path& network, std::vector<std::string> more = {}) {
  std::vector<std::string> o = {"model.name=torchscript", "model.path=" + network.string(), "model.depth=4",
                                "model.base_channels=16", "model.head_hidden=64", "partition.scheme=iid",
                                "partition.num_clients=4", "federation.rounds=3"};
  o.insert(o.end(), more.begin(), more.end());
  return o;
}

models::ModelConfig script_config(const fs::path& network, std::int64_t grade_classes = 2) {
  models::ModelConfig config;
  config.name = "torchscript";
  config.path = network.string();
  config.grade_classes = grade_classes;
  return config;
}

// Networks that break the contract, each saved as NAME.pt into `dir` by one Python process.
const char* const kBadNetworks = R"PY(
import sys, torch
from torch import nn
out = sys.argv[1]

class Base(nn.Module):
    def __init__(self, markers: int = 4, width: int = 1):
        super().__init__()
        self.encoder = nn.Conv3d(4, 2, 3, 1, 1)
        self.mask_head = nn.Conv3d(2, width, 1)
        self.marker_head = nn.Linear(2, markers)
    def features(self, x):
        return self.encoder(x)

class MaskOnly(Base):
    def forward(self, x):
        return self.mask_head(self.features(x))

class TwoMaskChannels(Base):
    def __init__(self):
        super().__init__(width=2)
    def forward(self, x):
        h = self.features(x)
        return self.mask_head(h), self.marker_head(h.mean((2, 3, 4)))

class FiveMarkers(Base):
    def __init__(self):
        super().__init__(markers=5)
    def forward(self, x):
        h = self.features(x)
        return self.mask_head(h), self.marker_head(h.mean((2, 3, 4)))

class SixMarkers(FiveMarkers):
    def __init__(self):
        Base.__init__(self, markers=6)

class Double(Base):
    def forward(self, x):
        h = self.features(x)
        return self.mask_head(h).double(), self.marker_head(h.mean((2, 3, 4))).double()

class Dropout(Base):
    def __init__(self):
        super().__init__()
        self.drop = nn.Dropout(0.5)
    def forward(self, x):
        h = self.drop(self.features(x))
        return self.mask_head(h), self.marker_head(h.mean((2, 3, 4)))

class Unnamed(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv3d(4, 2, 3, 1, 1)
        self.out = nn.Conv3d(2, 1, 1)
        self.markers = nn.Linear(2, 4)
    def forward(self, x):
        h = self.conv(x)
        return self.out(h), self.markers(h.mean((2, 3, 4)))

class Tied(Base):
    def __init__(self):
        super().__init__()
        self.decoder = nn.Conv3d(4, 2, 3, 1, 1)
        self.decoder.weight = self.encoder.weight
    def forward(self, x):
        h = self.features(x) + self.decoder(x)
        return self.mask_head(h), self.marker_head(h.mean((2, 3, 4)))

for cls in [MaskOnly, TwoMaskChannels, FiveMarkers, SixMarkers, Double, Dropout, Unnamed, Tied]:
    torch.jit.script(cls()).save(f"{out}/{cls.__name__}.pt")
)PY";

const fs::path& bad_networks() {
  static const fs::path dir = [] {
    const fs::path d = testing::temp_dir("torchscript-bad");
    write_file_atomic(d / "make.py", kBadNetworks);
    std::string out;
    if (testing::run_command("/usr/bin/python3 '" + (d / "make.py").string() + "' '" + d.string() + "'", &out) != 0)
      throw std::runtime_error("bad networks: " + out);
    return d;
  }();
  return dir;
}

std::string refusal(const models::ModelConfig& config) {
  try {
    models::make_model(config);
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "(accepted)";
}

}  // namespace

TEST_CASE("a scripted network trains federated, identical for 1 and 3 workers, and resumes after SIGKILL",
          "[torchscript][may_skip]") {
  if (python_torch_missing()) return (void)testing::skip("Debian's python3-torch is not installed (scripts the network)");
  const auto one = testing::read_rounds(testing::tiny_run("ts-one", with_network(example_network())));
  const fs::path three_run = testing::tiny_run("ts-three", with_network(example_network(), {"runtime.workers=3"}));
  const auto three = testing::read_rounds(three_run);
  REQUIRE(one.size() == 3);
  REQUIRE(three.size() == 3);
  for (std::size_t r = 0; r < one.size(); ++r) REQUIRE(testing::metrics_of(one[r]).dump() == testing::metrics_of(three[r]).dump());
  // It learned something and was evaluated like the built-in network: Dice and AUCs logged.
  REQUIRE(one.back()["eval"]["external"]["dice_mean"].get<double>() > one.front()["eval"]["external"]["dice_mean"].get<double>());
  REQUIRE(one.back()["eval"]["external"]["auc"].contains("idh"));

  const auto killed = testing::run_and_kill(testing::temp_dir("ts-killed"), with_network(example_network()), 2);
  std::ostringstream console;
  experiments::RunOptions resume;
  resume.resume = killed.out;
  experiments::run_run(resume, console);
  REQUIRE_THAT(console.str(), Contains("resuming after round"));
  const auto resumed = testing::read_rounds(killed.out);
  REQUIRE(resumed.size() == one.size());
  for (std::size_t r = 0; r < one.size(); ++r) REQUIRE(testing::metrics_of(resumed[r]).dump() == testing::metrics_of(one[r]).dump());

  // predict --cases runs it from the run folder, and model.pt holds its parameters by name.
  experiments::PredictOptions predict;
  predict.model = three_run / "model.pt";
  predict.cases = testing::tiny_cohort();
  predict.out = testing::temp_dir("ts-predict") / "out";
  experiments::run_predict_cohort(predict, console);
  REQUIRE(fs::exists(predict.out / "predictions.csv"));
  const auto network = models::make_model(script_config(example_network()));
  REQUIRE_NOTHROW(sim::load_state_dict(*network, (three_run / "model.pt").string()));

  // export-model --format torchscript writes the trained network, which LibTorch runs as fedglioma does.
  experiments::ExportModelOptions exported;
  exported.run = three_run;
  exported.format = "torchscript";
  exported.out = predict.out.parent_path() / "trained.pt";
  experiments::run_export_model(exported, console);
  const auto trained = models::make_model(script_config(exported.out));
  network->eval();
  trained->eval();
  const torch::Tensor x = torch::randn({1, 4, 16, 16, 16});
  REQUIRE(torch::equal(trained->forward(x).mask_logits, network->forward(x).mask_logits));
}

TEST_CASE("a scripted network's parameters, groups and norm layers are the module's own", "[torchscript][may_skip]") {
  if (python_torch_missing()) return (void)testing::skip("Debian's python3-torch is not installed (scripts the network)");
  const auto network = models::make_model(script_config(example_network()));
  std::vector<std::string> names;
  for (const auto& p : network->named_parameters()) names.push_back(p.key());
  REQUIRE(names.front() == "encoder.0.0.weight");
  REQUIRE(names.back() == "marker_head.2.bias");
  // Every parameter element is in exactly one group; the groups are the built-in network's.
  const auto groups = sim::flat_groups(*network);
  std::vector<std::string> group_names;
  std::size_t covered = 0;
  for (const auto& g : groups) {
    group_names.push_back(g.name);
    for (const auto& [begin, end] : g.ranges) covered += end - begin;
  }
  REQUIRE(group_names == std::vector<std::string>{"encoder", "mask_decoder", "marker_trunk", "marker:idh",
                                                  "marker:codeletion_1p19q", "marker:mgmt", "marker:grade"});
  REQUIRE(covered == sim::flatten_state(*network).size());
  REQUIRE(network->norm_layers() == std::set<std::string>{"decoder.1", "encoder.0.1", "encoder.1.1"});
  REQUIRE(network->size_multiple() == 2);
  REQUIRE(network->missing_groups().empty());
  // The registered tensors are the scripted module's: a change through one shows in the forward.
  const auto before = network->forward(torch::ones({1, 4, 4, 4, 4})).marker_logits;
  {
    torch::NoGradGuard no_grad;
    network->named_parameters()["marker_head.2.bias"].add_(1.0);
  }
  REQUIRE(torch::allclose(network->forward(torch::ones({1, 4, 4, 4, 4})).marker_logits, before + 1.0));
}

TEST_CASE("a scripted network that breaks the contract is refused at start, saying what is wrong",
          "[torchscript][may_skip]") {
  if (python_torch_missing()) return (void)testing::skip("Debian's python3-torch is not installed (scripts the network)");
  const fs::path dir = bad_networks();
  REQUIRE_THAT(refusal(script_config(dir / "MaskOnly.pt")), Contains("forward must return a tuple (mask logits, marker logits)"));
  REQUIRE_THAT(refusal(script_config(dir / "TwoMaskChannels.pt")), Contains("mask logits [2, 2, 8, 8, 8]"));
  REQUIRE_THAT(refusal(script_config(dir / "FiveMarkers.pt")), Contains("marker logits [2, 5]"));
  REQUIRE_THAT(refusal(script_config(dir / "SixMarkers.pt")), Contains("6 columns, but model.grade_classes is 2"));
  REQUIRE(refusal(script_config(dir / "SixMarkers.pt", 3)) == "(accepted)");
  REQUIRE_THAT(refusal(script_config(dir / "Double.pt")), Contains("must be float32, got Double"));
  REQUIRE_THAT(refusal(script_config(dir / "Dropout.pt")), Contains("draws random numbers while training"));
  REQUIRE_THAT(refusal(script_config(dir / "Tied.pt")),
               Contains("'encoder.weight' and 'decoder.weight' are one tensor (tied weights)"));
  // A whole-tumour network where the config asks for the three BraTS regions.
  models::ModelConfig regions = script_config(example_network());
  regions.segmentation = "brats_regions";
  REQUIRE_THAT(refusal(regions), Contains("mask logits [2, 1, 8, 8, 8]") && Contains("expected [N, 3, D, H, W]"));
  write_file_atomic(dir / "text.pt", "not a module");
  REQUIRE_THAT(refusal(script_config(dir / "text.pt")), Contains("is not a TorchScript module saved by torch.jit.save"));
  for (const char* name : {"MaskOnly", "text"}) REQUIRE_THAT(refusal(script_config(dir / (std::string(name) + ".pt"))), Contains(name));

  // Parameters outside the documented names: FedAvg trains it, strategies that need groups refuse.
  const auto unnamed = models::make_model(script_config(dir / "Unnamed.pt"));
  REQUIRE(unnamed->parameter_groups().empty());
  REQUIRE_THAT(unnamed->missing_groups(), Contains("its parameter 'conv.weight' is in no parameter group"));
  auto refused_run = [&](std::vector<std::string> more) {
    try {
      testing::tiny_run("ts-refused", with_network(dir / "Unnamed.pt", std::move(more)));
    } catch (const ConfigError& e) {
      return std::string(e.what());
    }
    return std::string("(ran)");
  };
  REQUIRE_THAT(refused_run({"federation.strategy.name=fedper"}), Contains("fedper keeps parameter groups local, but"));
  REQUIRE_THAT(refused_run({"federation.strategy.name=fedper"}), Contains("'conv.weight' is in no parameter group"));
  REQUIRE_THAT(refused_run({"federation.strategy.name=fedavg", "federation.strategy.label_aware=true"}),
               Contains("federation.strategy.label_aware: weighs the model's parameter groups"));
  REQUIRE_THAT(refused_run({"federation.strategy.name=fedbn"}), Contains("fedbn needs normalisation layers"));
  REQUIRE(refused_run({"federation.rounds=1"}) == "(ran)");
}

TEST_CASE("a TorchScript network's config names its file, pins its bytes and leaves the U-Net's keys alone",
          "[torchscript][may_skip]") {
  if (python_torch_missing()) return (void)testing::skip("Debian's python3-torch is not installed (scripts the network)");
  const fs::path dir = testing::temp_dir("ts-config");
  fs::copy_file(example_network(), dir / "net.pt");
  auto parsed = [&](std::vector<std::string> overrides) {
    try {
      return experiments::parse_config(R"({"model": {"name": "torchscript"}})", overrides, "net.json", dir).resolved_json;
    } catch (const ConfigError& e) {
      return std::string(e.what());
    }
  };
  // A path in the config file is relative to its folder; the resolved config holds it absolute,
  // with the file's fingerprint.
  const json resolved = json::parse(experiments::parse_config(R"({"model": {"name": "torchscript", "path": "net.pt"}})",
                                                              {}, "net.json", dir).resolved_json);
  REQUIRE(resolved["model"]["path"] == (dir / "net.pt").string());
  const std::string fingerprint = resolved["model"]["fingerprint"];
  REQUIRE(fingerprint.size() == 16);
  REQUIRE_THAT(parsed({}), Contains("model.path: model.name \"torchscript\" needs the scripted network's file"));
  REQUIRE_THAT(parsed({"model.path=" + (dir / "net.pt").string(), "model.depth=3"}),
               Contains("model.depth: applies to multitask_unet3d, not to a TorchScript network"));
  REQUIRE_THAT(parsed({"model.path=" + (dir / "missing.pt").string()}), Contains("cannot read the TorchScript network"));
  // The recorded fingerprint refuses a changed file (a resumed run, evaluate, predict).
  const std::string pinned = "model.fingerprint=" + fingerprint;
  REQUIRE_THAT(parsed({"model.path=" + (dir / "net.pt").string(), pinned}), !Contains("model.fingerprint"));
  append_line(dir / "net.pt", "changed");
  REQUIRE_THAT(parsed({"model.path=" + (dir / "net.pt").string(), pinned}), Contains("has changed since the config recorded it"));
  REQUIRE_THROWS_WITH(experiments::parse_config("{}", {"model.path=x.pt"}, "plain.json", dir),
                      Contains("model.path: only for model.name \"torchscript\""));
}
