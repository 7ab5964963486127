#include "sim/model_state.h"

#include <torch/nn/module.h>
#include <torch/nn/modules/batchnorm.h>
#include <torch/nn/modules/instancenorm.h>
#include <torch/nn/modules/normalization.h>
#include <torch/serialize.h>
#include <caffe2/serialize/inline_container.h>
#include <torch/csrc/jit/serialization/export.h>
#include <torch/csrc/jit/serialization/pickle.h>
#include <torch/csrc/jit/serialization/pickler.h>

#include <map>
#include <set>
#include <stdexcept>

#include "core/atomic_file.h"
#include "core/error.h"

namespace fedglioma::sim {
namespace {

// The exchanged tensors, by name, in a fixed order.
std::vector<std::pair<std::string, torch::Tensor>> exchanged(const torch::nn::Module& module) {
  std::vector<std::pair<std::string, torch::Tensor>> out;
  for (const auto& item : module.named_parameters(true)) out.emplace_back(item.key(), item.value());
  for (const auto& item : module.named_buffers(true))
    if (item.value().is_floating_point()) out.emplace_back(item.key(), item.value());
  return out;
}

}  // namespace

std::vector<std::pair<std::size_t, std::size_t>> norm_ranges(const torch::nn::Module& module) {
  std::set<std::string> owners;
  for (const auto& item : module.named_modules("", /*include_self=*/false)) {
    const auto& m = item.value();
    if (m->as<torch::nn::InstanceNorm3dImpl>() || m->as<torch::nn::BatchNorm3dImpl>() ||
        m->as<torch::nn::GroupNormImpl>())
      owners.insert(item.key());
  }
  std::vector<std::pair<std::size_t, std::size_t>> ranges;
  std::size_t offset = 0;
  for (const auto& [name, tensor] : exchanged(module)) {
    const std::size_t n = static_cast<std::size_t>(tensor.numel());
    const auto dot = name.rfind('.');
    if (dot != std::string::npos && owners.count(name.substr(0, dot))) {
      if (!ranges.empty() && ranges.back().second == offset) {
        ranges.back().second += n;
      } else {
        ranges.emplace_back(offset, offset + n);
      }
    }
    offset += n;
  }
  return ranges;
}

std::size_t parameter_count(const torch::nn::Module& module) {
  std::size_t n = 0;
  for (const auto& p : module.parameters(true)) n += static_cast<std::size_t>(p.numel());
  return n;
}

FlatParams flatten_state(const torch::nn::Module& module) {
  torch::NoGradGuard no_grad;
  std::vector<torch::Tensor> parts;
  for (const auto& [name, tensor] : exchanged(module))
    parts.push_back(tensor.detach().reshape({-1}).to(torch::kCPU, torch::kFloat32));
  const torch::Tensor flat = torch::cat(parts).contiguous();
  return FlatParams(flat.data_ptr<float>(), flat.data_ptr<float>() + flat.numel());
}

void load_state(torch::nn::Module& module, const FlatParams& params) {
  torch::NoGradGuard no_grad;
  const auto tensors = exchanged(module);
  std::int64_t total = 0;
  for (const auto& [name, tensor] : tensors) total += tensor.numel();
  if (total != static_cast<std::int64_t>(params.size()))
    throw std::invalid_argument("load_state: model has " + std::to_string(total) + " values, buffer has " +
                                std::to_string(params.size()));
  const torch::Tensor source =
      torch::from_blob(const_cast<float*>(params.data()), {total}, torch::kFloat32);
  std::int64_t offset = 0;
  for (const auto& [name, tensor] : tensors) {
    const std::int64_t n = tensor.numel();
    tensor.copy_(source.slice(0, offset, offset + n).view(tensor.sizes()));
    offset += n;
  }
}

void load_state_dict(torch::nn::Module& module, const std::string& path) {
  const std::string bytes = read_file(path);
  c10::IValue value;
  try {
    value = torch::pickle_load(std::vector<char>(bytes.begin(), bytes.end()));
  } catch (const std::exception& e) {
    throw IoError("'" + path + "': not a model file fedglioma can read (" + message_of(e).substr(0, 200) + ")");
  }
  if (!value.isGenericDict()) throw IoError("'" + path + "': expected a name -> tensor dictionary");
  std::map<std::string, torch::Tensor> stored;
  for (const auto& item : value.toGenericDict()) stored[item.key().toStringRef()] = item.value().toTensor();
  torch::NoGradGuard no_grad;
  const auto tensors = exchanged(module);
  for (const auto& [name, tensor] : tensors) {
    const auto it = stored.find(name);
    if (it == stored.end())
      throw ConfigError("'" + path + "' has no tensor '" + name + "': the model was trained with another model config");
    if (it->second.sizes() != tensor.sizes())
      throw ConfigError("'" + path + "': tensor '" + name + "' has shape " + c10::str(it->second.sizes()) +
                        ", the model config gives " + c10::str(tensor.sizes()));
    tensor.copy_(it->second.to(tensor.device(), tensor.scalar_type()));
  }
  if (stored.size() != tensors.size())
    throw ConfigError("'" + path + "' holds " + std::to_string(stored.size()) + " tensors, the model config " +
                      std::to_string(tensors.size()) + ": the model was trained with another model config");
}

void save_state_dict(const torch::nn::Module& module, const FlatParams& params, const std::string& path) {
  c10::Dict<std::string, torch::Tensor> dict;
  std::int64_t offset = 0;
  const torch::Tensor source =
      torch::from_blob(const_cast<float*>(params.data()), {static_cast<std::int64_t>(params.size())},
                       torch::kFloat32);
  for (const auto& [name, tensor] : exchanged(module)) {
    const std::int64_t n = tensor.numel();
    dict.insert(name, source.slice(0, offset, offset + n).view(tensor.sizes()).clone());
    offset += n;
  }
  // torch::pickle_save's format (a zip of data.pkl and one record per storage) without its type
  // tags: pickle_save wraps dictionaries in torch.jit._pickle.restore_type_tag, which
  // torch.load(weights_only=True) -- the default from torch 2.6 -- refuses. Untagged, the pickle
  // holds only what that loader allows (dict, _rebuild_tensor_v2, FloatStorage).
  std::vector<char> pickle;
  torch::jit::Pickler pickler([&](const char* data, std::size_t size) { pickle.insert(pickle.end(), data, data + size); },
                              /*tensor_table=*/nullptr, /*type_renamer=*/nullptr, /*memoized_class_types=*/nullptr,
                              /*get_tensor_id=*/nullptr, /*tag_aggregates=*/false);
  pickler.protocol();
  pickler.pushIValue(c10::IValue(dict));
  pickler.stop();
  std::string bytes;
  caffe2::serialize::PyTorchStreamWriter writer([&](const void* data, std::size_t size) {
    bytes.append(static_cast<const char*>(data), size);
    return size;
  });
  torch::jit::writeArchiveAndTensors("data", pickle.data(), pickle.size(), pickler.tensorData(), writer);
  writer.writeEndOfFile();
  write_file_atomic(path, bytes);
}

}  // namespace fedglioma::sim
