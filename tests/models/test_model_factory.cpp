// The model seam: models are built by name from the config's `model` section, expose their
// parameter groups, and the run (training, evaluation, checkpoints, model.pt) reaches them only
// through models::Model, so a model added at run time trains end to end.
#include <catch2/catch.hpp>

#include <torch/nn/modules/conv.h>
#include <torch/nn/modules/linear.h>
#include <torch/types.h>

#include <map>
#include <string>

#include "core/error.h"
#include "core/markers.h"
#include "experiments/config_json.h"
#include "models/model.h"
#include "models/model_factory.h"
#include "models/multitask_unet3d.h"
#include "sim/state/model_state.h"
#include "tests/support/fixtures.h"

namespace fm = fedglioma::models;

namespace {

// How often each element of each parameter is covered by the model's groups.
std::map<std::string, torch::Tensor> coverage(const fm::Model& model) {
  std::map<std::string, torch::Tensor> count;
  for (const auto& p : model.named_parameters()) count[p.key()] = torch::zeros(p.value().sizes(), torch::kInt);
  for (const fm::ParameterGroup& group : model.parameter_groups()) {
    for (const fm::ParameterSlice& slice : group.slices) {
      INFO("group " << group.name << ", parameter " << slice.name);
      REQUIRE(count.count(slice.name) == 1);
      torch::Tensor& c = count[slice.name];
      const std::int64_t end = slice.end < 0 ? c.size(0) : slice.end;
      REQUIRE((0 <= slice.begin && slice.begin < end && end <= c.size(0)));
      c.slice(0, slice.begin, end).add_(1);
    }
  }
  return count;
}

// A second model, as small as a model can be: a 1x1x1 convolution for the mask and a linear
// layer over the channel means for the markers.
class PointwiseModel : public fm::Model {
 public:
  PointwiseModel()
      : mask_(register_module("mask", torch::nn::Conv3d(torch::nn::Conv3dOptions(4, 1, 1)))),
        markers_(register_module("markers", torch::nn::Linear(4, 4))) {}
  fm::MultiTaskOutput forward(const torch::Tensor& x) override {
    fm::MultiTaskOutput out;
    out.mask_logits = mask_->forward(x);
    out.marker_logits = markers_->forward(x.mean({2, 3, 4}));
    return out;
  }
  double forward_flops(const std::array<std::int64_t, 3>& size) const override {
    return 2.0 * 4 * static_cast<double>(size[0] * size[1] * size[2]) + 2.0 * 16;
  }
  std::vector<fm::ParameterGroup> parameter_groups() const override {
    std::vector<fm::ParameterGroup> groups = {
        {fm::kEncoderGroup, {}}, {fm::kMaskDecoderGroup, {{"mask.weight"}, {"mask.bias"}}}, {fm::kMarkerTrunkGroup, {}}};
    for (std::int64_t m = 0; m < 4; ++m)
      groups.push_back({fm::marker_group(fedglioma::kMarkers[m]), {{"markers.weight", m, m + 1}, {"markers.bias", m, m + 1}}});
    return groups;
  }
  std::int64_t size_multiple() const override { return 1; }
  void set_dropout_generator(std::optional<at::Generator>) override {}

 private:
  torch::nn::Conv3d mask_;
  torch::nn::Linear markers_;
};

void register_pointwise() {
  static const bool once = [] {
    fm::add_model({"pointwise_test", "test model", [](const fm::ModelConfig&) -> std::shared_ptr<fm::Model> {
                     return std::make_shared<PointwiseModel>();
                   }});
    return true;
  }();
  (void)once;
}

}  // namespace

TEST_CASE("model.name builds the model through the factory, and an unknown name is refused naming the key", "[models][model_factory]") {
  fm::ModelConfig config = fedglioma::testing::tiny_model();
  const auto model = fm::make_model(config);
  REQUIRE(dynamic_cast<fm::MultiTaskUNet3DImpl*>(model.get()) != nullptr);
  CHECK(model->size_multiple() == 2);
  const auto out = model->forward(torch::randn({1, 4, 8, 8, 8}));
  CHECK(out.marker_logits.sizes() == torch::IntArrayRef({1, 4}));

  config.name = "unet2000";
  CHECK_THROWS_WITH(fm::make_model(config), Catch::StartsWith("model.name: unknown model 'unet2000'; known: ") &&
                                                Catch::Contains("multitask_unet3d"));
  CHECK_THROWS_WITH(fedglioma::experiments::parse_config(R"({"model": {"name": "unet2000"}})", {}, "test.json"),
                    Catch::Contains("model.name") && Catch::Contains("unet2000"));
  CHECK_THROWS_AS(fm::add_model({"multitask_unet3d", "again", nullptr}), fedglioma::ConfigError);
}

TEST_CASE("MultiTaskUNet3D's parameter groups cover every parameter element once", "[models][model_factory]") {
  for (const bool three_class : {false, true}) {
    for (const bool uncertainty : {false, true}) {
      fm::ModelConfig config = fedglioma::testing::tiny_model();
      config.grade_classes = three_class ? 3 : 2;
      config.task_uncertainty = uncertainty;
      config.head_features = three_class ? "all_levels" : "bottleneck";
      const auto model = fm::make_model(config);
      INFO("3-class " << three_class << ", task uncertainty " << uncertainty);
      for (const auto& [name, count] : coverage(*model)) {
        INFO("parameter " << name);
        CHECK(count.min().item<int>() == 1);
        CHECK(count.max().item<int>() == 1);
      }
      std::map<std::string, fm::ParameterGroup> groups;
      for (const auto& g : model->parameter_groups()) groups[g.name] = g;
      REQUIRE(groups.size() == 7);
      CHECK(groups.count("encoder") == 1);
      CHECK(groups.count("mask_decoder") == 1);
      CHECK(groups.count("marker_trunk") == 1);
      // A marker's group: its output rows (three for 3-class grade) and its task weight.
      const fm::ParameterGroup& grade = groups.at("marker:grade");
      CHECK(grade.slices.at(0).name == "marker_head.2.weight");
      CHECK(grade.slices.at(0).end - grade.slices.at(0).begin == (three_class ? 3 : 1));
      CHECK(grade.slices.size() == (uncertainty ? 3u : 2u));
      CHECK(groups.at("marker:mgmt").slices.at(0).begin == 2);
    }
  }
}

TEST_CASE("a model added at run time trains, evaluates and is saved through the model interface", "[models][model_factory]") {
  register_pointwise();
  const auto run = fedglioma::testing::tiny_run("pointwise-model", {"model.name=pointwise_test"});
  const auto rounds = fedglioma::testing::read_rounds(run);
  REQUIRE(rounds.size() == 2);
  REQUIRE(rounds.back().contains("eval"));
  CHECK(rounds.back()["eval"]["external"]["dice_mean"].is_number());
  CHECK(fedglioma::experiments::load_config(run / "config.resolved.json", {}).config.model.name == "pointwise_test");
  // model.pt holds this model's parameters: it loads into a fresh one and differs from the start.
  fm::ModelConfig config;
  config.name = "pointwise_test";
  const auto fresh = fm::make_model(config);
  const auto before = fedglioma::sim::flatten_state(*fresh);
  fedglioma::sim::load_state_dict(*fresh, (run / "model.pt").string());
  CHECK(fedglioma::sim::flatten_state(*fresh).size() == 4 * 1 + 1 + 4 * 4 + 4);
  CHECK(fedglioma::sim::flatten_state(*fresh) != before);
}
