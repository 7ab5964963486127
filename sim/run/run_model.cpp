#include "sim/run/run_model.h"

#include <torch/utils.h>

#include <cmath>
#include <cstdio>
#include <ostream>

#include "core/error.h"
#include "core/random.h"
#include "data/volume.h"
#include "models/model.h"
#include "models/model_factory.h"
#include "sim/state/model_state.h"

namespace fedglioma::sim {
namespace {

void check_grid(const models::Model& model, const ExperimentConfig& config) {
  const std::int64_t multiple = model.size_multiple();
  auto check = [&](const char* key, std::int64_t edge) {
    if (edge % multiple != 0)
      throw ConfigError(std::string(key) + ": " + std::to_string(edge) + " is not divisible by the network's size " +
                        "multiple " + std::to_string(multiple));
  };
  for (std::int64_t edge : config.data.size) check("data.size", edge);
  for (std::int64_t edge : config.train.patch_size) check("train.patch_size", edge);
}

void print_model_line(std::ostream& console, const models::Model& model, const DataConfig& data) {
  char text[160];
  const double flops = model.forward_flops(data::dhw(data.size));
  const double millions = static_cast<double>(parameter_count(model)) / 1e6;
  if (std::isnan(flops))
    std::snprintf(text, sizeof text, "fedglioma: model: %.3f M parameters (its FLOPs are not counted)\n", millions);
  else
    std::snprintf(text, sizeof text, "fedglioma: model: %.3f M parameters, %.2f GFLOP per case forward (about 3x to train)\n",
                  millions, flops / 1e9);
  console << text;
}

}  // namespace

std::shared_ptr<models::Model> initial_model(const ExperimentConfig& config, std::ostream& console) {
  torch::manual_seed(derive_seed(config.runtime.seed, 0, 0, RngPurpose::kModelInit));
  std::shared_ptr<models::Model> model = models::make_model(config.model);
  check_grid(*model, config);
  print_model_line(console, *model, config.data);
  return model;
}

}  // namespace fedglioma::sim
