// The network in Python (models/multitask_unet3d.py) against the C++ one, for every model option,
// and the exports (safetensors, TorchScript, ONNX) loaded back. Needs Debian's python3-torch and
// python3-nibabel (and python3-onnx for ONNX): skipped, and shown as skipped, without them.
#include <catch2/catch.hpp>

#include <torch/script.h>

#include <nlohmann/json.hpp>

#include <sstream>

#include "core/atomic_file.h"
#include "core/safetensors.h"
#include "data/nifti_io.h"
#include "experiments/cli_export_model.h"
#include "experiments/cli_preprocess.h"
#include "models/model.h"
#include "models/model_factory.h"
#include "sim/state/model_state.h"
#include "tests/support/fixtures.h"

namespace fs = std::filesystem;
using Catch::Contains;
using namespace fedglioma;

namespace {

// The float32 agreement asked of Python and C++ (same CPU numerics, possibly other convolution
// kernels): logits within 1e-4 of their scale, probabilities within 1e-4.
const char* const kTolerance = "1e-4";

bool python_ready(const std::string& modules) {
  std::string out;
  return testing::run_command("/usr/bin/python3 -c 'import " + modules + "'", &out) == 0;
}

// Two cases of the tiny cohort as `preprocess --export` writes them (once per test process).
const std::vector<fs::path>& exported_cases() {
  static const std::vector<fs::path> cases = [] {
    const fs::path dir = testing::temp_dir("python-model-cases");
    write_file_atomic(dir / "tiny.json", testing::tiny_config_json());
    experiments::PreprocessCliOptions o;
    o.config = dir / "tiny.json";
    o.export_dir = dir / "export";
    std::ostringstream console;
    experiments::run_preprocess(o, console);
    std::vector<fs::path> out;
    for (const auto& e : fs::directory_iterator(o.export_dir))
      if (e.is_directory()) out.push_back(e.path());
    std::sort(out.begin(), out.end());
    out.resize(2);
    return out;
  }();
  return cases;
}

torch::Tensor case_tensor(const fs::path& folder) {
  std::vector<torch::Tensor> channels;
  for (const char* m : data::kModalities) {
    data::FloatVolume v = data::read_image(folder / (std::string(m) + ".nii.gz"));
    const auto dhw = data::dhw(v.geometry.size);
    channels.push_back(torch::from_blob(v.voxels.data(), {dhw[0], dhw[1], dhw[2]}).clone());
  }
  return torch::stack(channels);
}

torch::Tensor batch() {
  std::vector<torch::Tensor> cases;
  for (const fs::path& c : exported_cases()) cases.push_back(case_tensor(c));
  return torch::stack(cases);
}

SafeTensor as_safe(const std::string& name, const torch::Tensor& value) {
  const torch::Tensor t = value.detach().contiguous().to(torch::kFloat);
  SafeTensor out{name, "F32", t.sizes().vec(), std::string(t.nbytes(), '\0')};
  std::memcpy(out.bytes.data(), t.data_ptr(), t.nbytes());
  return out;
}

// Writes the C++ outputs for `x` as the reference check_python_model.py compares against.
void write_expected(const fs::path& file, const torch::Tensor& mask_logits, const torch::Tensor& probabilities) {
  write_safetensors(file, {as_safe("mask_logits", mask_logits), as_safe("probabilities", probabilities)}, {});
}

std::string check_command(const fs::path& run, const fs::path& expected, const std::string& weights) {
  std::string cases;
  for (const fs::path& c : exported_cases()) cases += " '" + c.string() + "'";
  return "/usr/bin/python3 '" + std::string(FEDGLIOMA_SOURCE_DIR) + "/scripts/check_python_model.py' --run '" +
         run.string() + "' --cases" + cases + " --expected '" + expected.string() + "' --tolerance " + kTolerance + " " +
         weights;
}

}  // namespace

TEST_CASE("the Python network equals the C++ one for every model option", "[models][python][may_skip]") {
  if (!python_ready("torch, nibabel")) {
    testing::skip("Debian's python3-torch or python3-nibabel is not installed");
    return;
  }
  const std::vector<nlohmann::json> variants = {
      {{"depth", 2}, {"base_channels", 4}, {"head_hidden", 8}},
      {{"depth", 3}, {"base_channels", 6}, {"max_channels", 8}, {"norm", "group"}, {"head_features", "all_levels"},
       {"tumour_pooling", false}, {"head_hidden", 7}},
      {{"depth", 2}, {"base_channels", 4}, {"norm", "batch"}, {"grade_classes", 3}, {"task_uncertainty", true},
       {"head_hidden", 5}, {"segmentation", "brats_regions"}},
  };
  const torch::Tensor x = batch();
  int index = 0;
  for (const nlohmann::json& variant : variants) {
    INFO(variant.dump());
    models::ModelConfig config;
    config.depth = variant.value("depth", config.depth);
    config.base_channels = variant.value("base_channels", config.base_channels);
    config.max_channels = variant.value("max_channels", config.max_channels);
    config.norm = variant.value("norm", config.norm);
    config.head_features = variant.value("head_features", config.head_features);
    config.tumour_pooling = variant.value("tumour_pooling", config.tumour_pooling);
    config.grade_classes = variant.value("grade_classes", config.grade_classes);
    config.task_uncertainty = variant.value("task_uncertainty", config.task_uncertainty);
    config.head_hidden = variant.value("head_hidden", config.head_hidden);
    config.segmentation = variant.value("segmentation", config.segmentation);
    testing::seed_torch(static_cast<std::uint64_t>(index));
    const auto model = models::make_model(config);
    model->eval();
    torch::NoGradGuard no_grad;
    const models::MultiTaskOutput out = model->forward(x);
    const fs::path run = testing::temp_dir("python-model-" + std::to_string(index++));
    sim::save_state_dict(*model, sim::flatten_state(*model), (run / "model.pt").string());
    nlohmann::json section = variant;
    section["name"] = "multitask_unet3d";
    write_file_atomic(run / "config.resolved.json", nlohmann::json{{"model", section}}.dump());
    write_expected(run / "expected.safetensors", out.mask_logits, torch::sigmoid(out.marker_logits));
    std::string output;
    const int rc = testing::run_command(check_command(run, run / "expected.safetensors", ""), &output);
    INFO(output);
    REQUIRE(rc == 0);
    REQUIRE_THAT(output, Contains("max |d mask_logits|"));
  }
}

TEST_CASE("export-model: safetensors, TorchScript and ONNX load back and give the native model's outputs",
          "[models][python][export][may_skip]") {
  if (!python_ready("torch, nibabel, onnx")) {
    testing::skip("Debian's python3-torch, python3-nibabel or python3-onnx is not installed");
    return;
  }
  const fs::path run = testing::tiny_run("export-model", {"federation.rounds=1"});
  const fs::path dir = testing::temp_dir("export-model-out");
  const auto config = nlohmann::json::parse(read_file(run / "config.resolved.json"));
  models::ModelConfig mc;
  mc.depth = config["model"]["depth"];
  mc.base_channels = config["model"]["base_channels"];
  mc.head_hidden = config["model"]["head_hidden"];
  const auto native = models::make_model(mc);
  sim::load_state_dict(*native, (run / "model.pt").string());
  native->eval();
  torch::NoGradGuard no_grad;
  const torch::Tensor x = batch();
  const models::MultiTaskOutput out = native->forward(x);
  write_expected(dir / "expected.safetensors", out.mask_logits, torch::sigmoid(out.marker_logits));

  std::ostringstream console;
  experiments::ExportModelOptions o;
  o.run = run;
  for (const char* format : {"safetensors", "torchscript", "onnx"}) {
    o.format = format;
    o.out = dir / (std::string("model.") + format);
    experiments::run_export_model(o, console);
    REQUIRE(fs::exists(o.out));
  }
  std::map<std::string, std::string> metadata;
  const auto tensors = read_safetensors(dir / "model.safetensors", &metadata);
  REQUIRE(tensors.size() == native->named_parameters().size() + native->named_buffers().size());
  REQUIRE_THAT(metadata.at("fedglioma.config"), Contains("\"model\""));

  std::string output;
  REQUIRE(testing::run_command(check_command(run, dir / "expected.safetensors",
                                             "--safetensors '" + (dir / "model.safetensors").string() + "'"),
                               &output) == 0);
  REQUIRE(testing::run_command(check_command(run, dir / "expected.safetensors",
                                             "--torchscript '" + (dir / "model.torchscript").string() + "'"),
                               &output) == 0);
  // TorchScript in C++: the scripted Python network, run by LibTorch.
  torch::jit::Module scripted = torch::jit::load((dir / "model.torchscript").string());
  scripted.eval();
  const auto result = scripted.forward({x}).toTuple();
  const torch::Tensor mask = result->elements()[0].toTensor(), markers = result->elements()[1].toTensor();
  REQUIRE(mask.sizes() == out.mask_logits.sizes());
  REQUIRE((mask - out.mask_logits).abs().max().item<double>() <= 1e-4 * std::max(1.0, out.mask_logits.abs().max().item<double>()));
  REQUIRE((torch::sigmoid(markers) - torch::sigmoid(out.marker_logits)).abs().max().item<double>() <= 1e-4);
  REQUIRE_THAT(console.str(), Contains("as onnx"));

  o.format = "onnx";
  o.run = dir;  // not a run folder
  REQUIRE_THROWS_WITH(experiments::run_export_model(o, console), Contains("config.resolved.json") && Contains("run folder"));
}

TEST_CASE("safetensors files round-trip and damaged ones are refused naming the file", "[core][safetensors]") {
  const fs::path dir = testing::temp_dir("safetensors");
  const std::string four_floats(16, '\x01');
  write_safetensors(dir / "a.safetensors", {{"w", "F32", {2, 2}, four_floats}, {"n", "I64", {}, std::string(8, '\0')}},
                    {{"note", "x"}});
  std::map<std::string, std::string> metadata;
  const auto back = read_safetensors(dir / "a.safetensors", &metadata);
  REQUIRE(back.size() == 2);
  REQUIRE(back[0].name == "w");
  REQUIRE(back[0].bytes == four_floats);
  REQUIRE(back[1].shape.empty());
  REQUIRE(metadata.at("note") == "x");
  const std::string text = read_file(dir / "a.safetensors");
  REQUIRE(text.size() % 8 == 0);  // header padded: the data start aligned
  write_file_atomic(dir / "short.safetensors", text.substr(0, text.size() - 4));
  REQUIRE_THROWS_WITH(read_safetensors(dir / "short.safetensors"), Contains("short.safetensors") && Contains("outside the data"));
  REQUIRE_THROWS_AS(write_safetensors(dir / "b.safetensors", {{"w", "F32", {3}, four_floats}}, {}), std::invalid_argument);
  // Hostile headers: a shape whose byte count wraps to 0, a byte no tensor owns, a metadata number.
  const auto with_header = [&](const std::string& name, const std::string& json, const std::string& data) {
    std::string file(8, '\0');
    for (std::size_t b = 0; b < 8; ++b) file[b] = static_cast<char>((json.size() >> (8 * b)) & 0xFF);
    write_file_atomic(dir / name, file + json + data);
    return dir / name;
  };
  REQUIRE_THROWS_WITH(read_safetensors(with_header("wrap.safetensors",
                                                   R"({"w":{"dtype":"F32","shape":[4611686018427387904,1],"data_offsets":[0,0]}})", "")),
                      Contains("wrap.safetensors") && Contains("shape"));
  REQUIRE_THROWS_WITH(read_safetensors(with_header("gap.safetensors",
                                                   R"({"w":{"dtype":"U8","shape":[1],"data_offsets":[0,1]}})", "ab")),
                      Contains("1 byte(s) after the last tensor"));
  REQUIRE_THROWS_WITH(read_safetensors(with_header("meta.safetensors", R"({"__metadata__":{"n":5}})", "")),
                      Contains("not a string"));
}
