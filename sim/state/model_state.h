#pragma once

#include <string>
#include <utility>
#include <vector>

#include "core/aggregate.h"

namespace torch::nn {
class Module;
}
namespace fedglioma::models {
class Model;
}

namespace fedglioma::sim {

/// A parameter group of a model (models::ParameterGroup) located in the flat buffer.
struct FlatGroup {
  std::string name;
  FlatRanges ranges;  ///< sorted, adjacent ranges merged
};

/// The model state that federated rounds exchange: every parameter and every floating-point
/// buffer (batch-norm running statistics), in registration order, flattened to one float
/// buffer on the CPU. Integer buffers (batch-norm's num_batches_tracked) are not exchanged.
FlatParams flatten_state(const torch::nn::Module& module);

/// The [begin, end) ranges of the flat buffer that hold normalisation layers' tensors (the
/// modules Model::norm_layers names: affine weights and biases, batch norm's running
/// statistics), merged where adjacent. FedBN keeps these local.
std::vector<std::pair<std::size_t, std::size_t>> norm_ranges(const models::Model& module);

/// The [begin, end) range of the flat buffer (flatten_state's layout) that holds the tensor named
/// `name` (as named_parameters / named_buffers name it, e.g. "task_log_variance"). Throws
/// std::invalid_argument when the module has no such exchanged tensor.
std::pair<std::size_t, std::size_t> flat_range(const torch::nn::Module& module, const std::string& name);

/// `model`'s parameter groups (Model::parameter_groups) as ranges of flatten_state's buffer, in the
/// model's order. Throws std::logic_error when a group names a tensor or rows the model lacks.
std::vector<FlatGroup> flat_groups(const models::Model& model);

/// The number of leading flat values that are parameters (the rest are buffers).
std::size_t parameter_count(const torch::nn::Module& module);

/// Copies `params` back into `module`'s parameters and floating buffers (on its device).
/// Throws std::invalid_argument when the length does not match the module.
void load_state(torch::nn::Module& module, const FlatParams& params);

/// Loads a name -> tensor dictionary written by save_state_dict (or by Python's torch.save of a
/// state dict with the same names) into `module`. Throws IoError naming the file when it cannot
/// be read or a tensor's stored data are shorter than its shape declares (a truncated or damaged
/// file), DataError when a tensor holds NaN or infinite values, and ConfigError when its tensors
/// do not match the module's names and shapes (a model of another configuration).
void load_state_dict(torch::nn::Module& module, const std::string& path);

/// Saves `params` laid out as `module`'s named tensors to `path` as a name -> tensor dictionary
/// that Python reads with `torch.load(path)`, including torch's restricted weights_only loader.
/// `identity` (JSON text, see model_identity), when given, is stored beside the pickle as the
/// archive's `fedglioma.json` record, which torch.load ignores. Written atomically.
void save_state_dict(const torch::nn::Module& module, const FlatParams& params, const std::string& path,
                     const std::string& identity = {});

/// The `fedglioma.json` record of a model file written by save_state_dict, or "" when it has none
/// (an older fedglioma's, or Python's torch.save). Throws IoError naming the file when it is not a
/// readable archive.
std::string read_model_identity(const std::string& path);

}  // namespace fedglioma::sim
