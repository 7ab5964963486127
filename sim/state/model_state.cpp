#include "sim/state/model_state.h"

#include <torch/nn/module.h>
#include <torch/serialize.h>
#include <caffe2/serialize/inline_container.h>
#include <torch/csrc/jit/serialization/export.h>
#include <torch/csrc/jit/serialization/pickle.h>
#include <torch/csrc/jit/serialization/pickler.h>

#include <algorithm>
#include <map>
#include <set>
#include <sstream>
#include <stdexcept>

#include "core/atomic_file.h"
#include "core/error.h"
#include "models/model.h"
#include "sim/state/model_archive.h"

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

std::vector<std::pair<std::size_t, std::size_t>> norm_ranges(const models::Model& module) {
  const std::set<std::string> owners = module.norm_layers();
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

std::pair<std::size_t, std::size_t> flat_range(const torch::nn::Module& module, const std::string& name) {
  std::size_t begin = 0;
  for (const auto& [tensor_name, tensor] : exchanged(module)) {
    const auto n = static_cast<std::size_t>(tensor.numel());
    if (tensor_name == name) return {begin, begin + n};
    begin += n;
  }
  throw std::invalid_argument("the model has no exchanged tensor named '" + name + "'");
}

std::vector<FlatGroup> flat_groups(const models::Model& model) {
  std::map<std::string, std::pair<std::size_t, torch::Tensor>> located;  // name -> (offset, tensor)
  std::size_t offset = 0;
  for (const auto& [name, tensor] : exchanged(model)) {
    located.emplace(name, std::make_pair(offset, tensor));
    offset += static_cast<std::size_t>(tensor.numel());
  }
  std::vector<FlatGroup> out;
  for (const models::ParameterGroup& group : model.parameter_groups()) {
    FlatGroup flat{group.name, {}};
    for (const models::ParameterSlice& slice : group.slices) {
      const auto it = located.find(slice.name);
      if (it == located.end()) throw std::logic_error("parameter group " + group.name + ": no tensor " + slice.name);
      const auto& [begin, tensor] = it->second;
      const std::int64_t rows = tensor.dim() == 0 ? 1 : tensor.size(0);
      const std::int64_t end = slice.end < 0 ? rows : slice.end;
      if (slice.begin < 0 || slice.begin > end || end > rows)
        throw std::logic_error("parameter group " + group.name + ": rows outside " + slice.name);
      const auto row = static_cast<std::size_t>(tensor.numel() / std::max<std::int64_t>(rows, 1));
      flat.ranges.emplace_back(begin + static_cast<std::size_t>(slice.begin) * row, begin + static_cast<std::size_t>(end) * row);
    }
    std::sort(flat.ranges.begin(), flat.ranges.end());
    FlatRanges merged;
    for (const auto& r : flat.ranges) {
      if (!merged.empty() && merged.back().second == r.first) merged.back().second = r.second;
      else if (r.first < r.second) merged.push_back(r);
    }
    flat.ranges = std::move(merged);
    out.push_back(std::move(flat));
  }
  return out;
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

namespace {

// The bytes a tensor's view reaches in its storage: a shape longer than the stored data would make
// copying it read past them.
void check_stored_extent(const torch::Tensor& t, const std::string& name, const std::string& path) {
  if (t.numel() == 0) return;
  std::int64_t last = t.storage_offset();
  for (std::int64_t d = 0; d < t.dim(); ++d) last += (t.size(d) - 1) * t.stride(d);
  const auto needed = static_cast<std::uint64_t>(last + 1) * t.element_size();
  if (t.storage_offset() < 0 || needed > t.storage().nbytes())
    throw IoError("'" + path + "': tensor '" + name + "' of shape " + c10::str(t.sizes()) + " needs " +
                  std::to_string(needed) + " bytes, its stored data hold " + std::to_string(t.storage().nbytes()) +
                  ": the file is truncated or damaged");
}

// The sizes of the archive's storage records ("data/<key>"), sorted. torch's reader gives each
// storage the size the pickle declares over a buffer of the record's size, so a record shorter
// than its storage would be read past its end: the two must be the same sizes.
std::vector<std::uint64_t> storage_record_sizes(const std::string& bytes, const std::string& path) {
  std::istringstream in(bytes);
  std::vector<std::uint64_t> sizes;
  try {
    caffe2::serialize::PyTorchStreamReader reader(&in);
    for (const std::string& name : reader.getAllRecords())
      if (name.rfind("data/", 0) == 0) sizes.push_back(std::get<1>(reader.getRecord(name)));
  } catch (const std::exception& e) {
    throw IoError("'" + path + "': not a model file fedglioma can read (" + message_of(e).substr(0, 200) + ")");
  }
  std::sort(sizes.begin(), sizes.end());
  return sizes;
}

void check_storages(const std::map<std::string, torch::Tensor>& stored, const std::vector<std::uint64_t>& records,
                    const std::string& path) {
  std::map<const void*, std::uint64_t> storages;
  for (const auto& [name, t] : stored) storages[t.storage().unsafeGetStorageImpl()] = t.storage().nbytes();
  std::vector<std::uint64_t> declared;
  for (const auto& [impl, nbytes] : storages) declared.push_back(nbytes);
  std::sort(declared.begin(), declared.end());
  if (declared != records) {
    std::uint64_t have = 0, need = 0;
    for (auto n : records) have += n;
    for (auto n : declared) need += n;
    throw IoError("'" + path + "': its tensors declare " + std::to_string(need) + " bytes of data in " +
                  std::to_string(declared.size()) + " storage(s), the file stores " + std::to_string(have) + " in " +
                  std::to_string(records.size()) + ": the file is truncated or damaged");
  }
  for (const auto& [name, t] : stored) check_stored_extent(t, name, path);
}

}  // namespace

void load_state_dict(torch::nn::Module& module, const std::string& path) {
  const std::string bytes = read_file(path);
  check_model_archive(bytes, path);  // before LibTorch allocates what the file declares
  c10::IValue value;
  try {
    value = torch::pickle_load(std::vector<char>(bytes.begin(), bytes.end()));
  } catch (const std::exception& e) {
    throw IoError("'" + path + "': not a model file fedglioma can read (" + message_of(e).substr(0, 200) + ")");
  }
  if (!value.isGenericDict()) throw IoError("'" + path + "': expected a name -> tensor dictionary");
  std::map<std::string, torch::Tensor> stored;
  for (const auto& item : value.toGenericDict()) {
    if (!item.key().isString() || !item.value().isTensor())
      throw IoError("'" + path + "': expected a name -> tensor dictionary");
    stored[item.key().toStringRef()] = item.value().toTensor();
  }
  check_storages(stored, storage_record_sizes(bytes, path), path);
  torch::NoGradGuard no_grad;
  const auto tensors = exchanged(module);
  for (const auto& [name, tensor] : tensors) {
    const auto it = stored.find(name);
    if (it == stored.end())
      throw ConfigError("'" + path + "' has no tensor '" + name + "': the model was trained with another model config");
    if (it->second.sizes() != tensor.sizes())
      throw ConfigError("'" + path + "': tensor '" + name + "' has shape " + c10::str(it->second.sizes()) +
                        ", the model config gives " + c10::str(tensor.sizes()));
    if (!torch::isfinite(it->second).all().item<bool>())
      throw DataError("'" + path + "': tensor '" + name +
                      "' holds NaN or infinite values (a diverged training or a damaged file); it cannot predict");
    tensor.copy_(it->second.to(tensor.device(), tensor.scalar_type()));
  }
  if (stored.size() != tensors.size())
    throw ConfigError("'" + path + "' holds " + std::to_string(stored.size()) + " tensors, the model config " +
                      std::to_string(tensors.size()) + ": the model was trained with another model config");
}

void save_state_dict(const torch::nn::Module& module, const FlatParams& params, const std::string& path,
                     const std::string& identity) {
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
  if (!identity.empty()) writer.writeRecord("fedglioma.json", identity.data(), identity.size());
  writer.writeEndOfFile();
  write_file_atomic(path, bytes);
}

std::string read_model_identity(const std::string& path) {
  const std::string bytes = read_file(path);
  check_model_archive(bytes, path);
  std::istringstream in(bytes);
  try {
    caffe2::serialize::PyTorchStreamReader reader(&in);
    if (!reader.hasRecord("fedglioma.json")) return {};
    const auto [data, size] = reader.getRecord("fedglioma.json");
    return std::string(static_cast<const char*>(data.get()), size);
  } catch (const std::exception& e) {
    throw IoError("'" + path + "': not a model file fedglioma can read (" + message_of(e).substr(0, 200) + ")");
  }
}

}  // namespace fedglioma::sim
