#include "sim/state/model_export.h"

#include <torch/nn/module.h>

#include <cstring>

#include "core/error.h"
#include "core/safetensors.h"
#include "models/model.h"
#include "models/model_factory.h"
#include "sim/state/model_state.h"

namespace fedglioma::sim {
namespace {

SafeTensor safe_tensor(const std::string& name, const torch::Tensor& value) {
  const torch::Tensor t = value.detach().to(torch::kCPU).contiguous();
  std::string dtype;
  switch (t.scalar_type()) {
    case torch::kFloat: dtype = "F32"; break;
    case torch::kDouble: dtype = "F64"; break;
    case torch::kLong: dtype = "I64"; break;
    case torch::kInt: dtype = "I32"; break;
    default: throw std::logic_error("export_safetensors: tensor '" + name + "' has an unexpected type");
  }
  SafeTensor out{name, dtype, t.sizes().vec(), std::string(t.nbytes(), '\0')};
  if (t.nbytes() > 0) std::memcpy(out.bytes.data(), t.data_ptr(), t.nbytes());
  return out;
}

}  // namespace

void export_safetensors(const models::ModelConfig& model, const std::string& resolved_config_json,
                        const std::filesystem::path& model_path, const std::filesystem::path& out) {
  const std::shared_ptr<models::Model> network = models::make_model(model);
  load_state_dict(*network, model_path.string());
  std::vector<SafeTensor> tensors;
  for (const auto& item : network->named_parameters()) tensors.push_back(safe_tensor(item.key(), item.value()));
  for (const auto& item : network->named_buffers()) tensors.push_back(safe_tensor(item.key(), item.value()));
  std::map<std::string, std::string> metadata = {{"format", "pt"}, {"fedglioma.config", resolved_config_json}};
  const std::string identity = read_model_identity(model_path.string());
  if (!identity.empty()) metadata["fedglioma.identity"] = identity;
  write_safetensors(out, tensors, metadata);
}

}  // namespace fedglioma::sim
