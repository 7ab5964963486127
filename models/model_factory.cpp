#include "models/model_factory.h"

#include <utility>

#include "core/error.h"
#include "models/model.h"
#include "models/multitask_unet3d.h"
#include "models/torchscript_model.h"

namespace fedglioma::models {

namespace {

std::vector<ModelEntry>& entries() {
  static std::vector<ModelEntry> known = {
      {"multitask_unet3d",
       "3D U-Net with a whole-tumour mask decoder and IDH, 1p/19q, MGMT and grade heads (DESIGN.md, \"The model\")",
       [](const ModelConfig& config) -> std::shared_ptr<Model> { return MultiTaskUNet3D(unet_options(config)).ptr(); }},
      {"torchscript",
       "your own network, scripted in Python and saved with torch.jit.save, from `model.path` (docs/model.md, \"Bring "
       "your own network\")",
       [](const ModelConfig& config) -> std::shared_ptr<Model> { return std::make_shared<TorchScriptModel>(config); }},
  };
  return known;
}

}  // namespace

const std::vector<ModelEntry>& model_entries() { return entries(); }

std::set<std::string> model_names() {
  std::set<std::string> names;
  for (const ModelEntry& e : entries()) names.insert(e.name);
  return names;
}

void add_model(ModelEntry entry) {
  if (model_names().count(entry.name) != 0) throw ConfigError("model '" + entry.name + "' is already registered");
  entries().push_back(std::move(entry));
}

std::shared_ptr<Model> make_model(const ModelConfig& config) {
  for (const ModelEntry& e : entries())
    if (e.name == config.name) return e.make(config);
  std::string known;
  for (const std::string& name : model_names()) known += (known.empty() ? "" : ", ") + name;
  throw ConfigError("model.name: unknown model '" + config.name + "'; known: " + known);
}

}  // namespace fedglioma::models
