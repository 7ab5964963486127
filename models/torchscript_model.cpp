#include "models/torchscript_model.h"

#include <torch/csrc/jit/runtime/graph_executor.h>
#include <torch/script.h>

#include <algorithm>
#include <limits>
#include <map>

#include "core/error.h"
#include "core/markers.h"

namespace fedglioma::models {

struct TorchScriptModel::Script {
  torch::jit::Module module;
};

namespace {

// The informative line of a (TorchScript) error: its "...Error: ..." line, else its first line.
std::string short_error(const c10::Error& e) {
  const std::string text = e.what_without_backtrace();
  const auto at = text.rfind("Error: ");
  const std::size_t begin = at == std::string::npos ? 0 : text.rfind('\n', at) + 1;
  return text.substr(begin, text.find('\n', begin) - begin);
}

// The module `path` ("a.b") below `root`, made (a plain torch::nn::Module) where missing.
torch::nn::Module& nested(torch::nn::Module& root, const std::string& path,
                          std::map<std::string, std::shared_ptr<torch::nn::Module>>& made) {
  torch::nn::Module* at = &root;
  for (std::size_t start = 0; start < path.size();) {
    const std::size_t dot = path.find('.', start);
    const std::string prefix = path.substr(0, dot);
    auto it = made.find(prefix);
    if (it == made.end()) {
      const std::string segment = path.substr(start, dot == std::string::npos ? std::string::npos : dot - start);
      it = made.emplace(prefix, at->register_module(segment, std::make_shared<torch::nn::Module>(segment))).first;
    }
    at = it->second.get();
    if (dot == std::string::npos) break;
    start = dot + 1;
  }
  return *at;
}

std::pair<std::string, std::string> split_name(const std::string& name) {
  const auto dot = name.rfind('.');
  if (dot == std::string::npos) return {"", name};
  return {name.substr(0, dot), name.substr(dot + 1)};
}

std::string shape_text(const torch::Tensor& t) {
  std::string out = "[";
  for (std::int64_t d = 0; d < t.dim(); ++d) out += (d ? ", " : "") + std::to_string(t.size(d));
  return out + "]";
}

}  // namespace

TorchScriptModel::TorchScriptModel(const ModelConfig& config)
    : path_(config.path), script_(std::make_unique<Script>()) {
  if (config.task_uncertainty)
    throw ConfigError("model.task_uncertainty: not available with a TorchScript network (its outputs are the mask and "
                      "marker logits only)");
  try {
    script_->module = torch::jit::load(path_, torch::Device(torch::kCPU));
  } catch (const c10::Error& e) {
    throw ConfigError("model.path: '" + path_ + "' is not a TorchScript module saved by torch.jit.save (" +
                      short_error(e) + ")");
  }
  if (script_->module.hasattr("size_multiple")) {
    const c10::IValue multiple = script_->module.attr("size_multiple");
    if (!multiple.isInt() || multiple.toInt() < 1 || multiple.toInt() > 64)
      throw ConfigError("model.path: '" + path_ + "': its attribute size_multiple must be an int in [1, 64]");
    size_multiple_ = multiple.toInt();
  }
  register_tensors();
  check_contract(config);
}

TorchScriptModel::~TorchScriptModel() = default;

void TorchScriptModel::register_tensors() {
  std::map<std::string, std::shared_ptr<torch::nn::Module>> made;
  std::map<const void*, std::string> seen;  // each tensor once: tied weights would be stepped and exchanged twice
  for (const auto& item : script_->module.named_parameters(/*recurse=*/true)) {
    const auto [it, fresh] = seen.emplace(item.value.unsafeGetTensorImpl(), item.name);
    if (!fresh)
      throw ConfigError("model.path: '" + path_ + "': its parameters '" + it->second + "' and '" + item.name +
                        "' are one tensor (tied weights), which fedglioma would train and aggregate twice; untie them");
    const auto [owner, leaf] = split_name(item.name);
    nested(*this, owner, made).register_parameter(leaf, item.value, item.value.requires_grad());
  }
  for (const auto& item : script_->module.named_buffers(/*recurse=*/true)) {
    const auto [owner, leaf] = split_name(item.name);
    nested(*this, owner, made).register_buffer(leaf, item.value);
  }
}

std::string TorchScriptModel::missing_groups() const {
  if (groups_.problem.empty()) return {};
  return "the TorchScript network '" + path_ + "' has no parameter groups: " + groups_.problem;
}

std::set<std::string> TorchScriptModel::norm_layers() const {
  static const std::set<std::string> kNorms = {"BatchNorm1d",    "BatchNorm2d",    "BatchNorm3d", "InstanceNorm1d",
                                               "InstanceNorm2d", "InstanceNorm3d", "GroupNorm",   "LayerNorm"};
  std::set<std::string> owners;
  for (const auto& item : script_->module.named_modules()) {
    const auto name = item.value.type()->name();
    if (!item.name.empty() && name && kNorms.count(name->name())) owners.insert(item.name);
  }
  return owners;
}

void TorchScriptModel::train(bool on) {
  Model::train(on);
  script_->module.train(on);
}

double TorchScriptModel::forward_flops(const std::array<std::int64_t, 3>&) const {
  return std::numeric_limits<double>::quiet_NaN();
}

MultiTaskOutput TorchScriptModel::call(const torch::Tensor& x) {
  // The plain interpreter: the same ATen operations on every call, never a fused rewrite after
  // the JIT's profiling runs (which would change the numbers after a few steps).
  torch::jit::GraphOptimizerEnabledGuard plain(false);
  const c10::IValue result = script_->module.forward({x});
  MultiTaskOutput out;
  if (result.isTuple()) {
    const auto& items = result.toTupleRef().elements();
    if (items.size() == 2 && items[0].isTensor() && items[1].isTensor()) {
      out.mask_logits = items[0].toTensor();
      set_marker_logits(out, items[1].toTensor());
      return out;
    }
  }
  throw ConfigError("model.path: '" + path_ + "': forward must return a tuple (mask logits, marker logits) of two "
                    "tensors, got " + result.tagKind());
}

// One batch in evaluation mode and two in training mode (buffers restored afterwards): shapes,
// dtypes, the marker columns against model.grade_classes, and identical training-mode outputs.
void TorchScriptModel::check_contract(const ModelConfig& config) {
  const std::int64_t edge = size_multiple_ * std::max<std::int64_t>(2, (8 + size_multiple_ - 1) / size_multiple_);
  const torch::Tensor x = torch::sin(torch::arange(2 * 4 * edge * edge * edge, torch::kFloat32)).view({2, 4, edge, edge, edge});
  auto fail = [&](const std::string& what) { throw ConfigError("model.path: '" + path_ + "': " + what); };
  torch::NoGradGuard no_grad;
  std::vector<torch::Tensor> saved;
  for (const torch::Tensor& b : buffers()) saved.push_back(b.clone());
  MultiTaskOutput evaluated, first, second;
  std::string error;
  try {
    train(false);
    evaluated = call(x);
    train(true);
    first = call(x);
    second = call(x);
  } catch (const c10::Error& e) {
    error = short_error(e);
  }
  const std::vector<torch::Tensor> live = buffers();
  for (std::size_t i = 0; i < saved.size(); ++i) live[i].copy_(saved[i]);
  train(true);
  const std::string input = "an input " + shape_text(x);
  if (!error.empty()) fail("its forward fails on " + input + " (" + error + ")");
  const torch::Tensor& mask = evaluated.mask_logits;
  const std::int64_t regions = config.segmentation == "brats_regions" ? 3 : 1;
  const std::string e = std::to_string(edge), r = std::to_string(regions);
  if (mask.dim() != 5 || mask.size(0) != 2 || mask.size(1) != regions || mask.sizes().slice(2) != x.sizes().slice(2))
    fail("mask logits " + shape_text(mask) + " for " + input + ": expected [N, " + r + ", D, H, W] = [2, " + r + ", " +
         e + ", " + e + ", " + e + "]" + (regions == 3 ? " (model.segmentation \"brats_regions\": WT, TC, ET)" : ""));
  const std::int64_t columns = evaluated.grade_logits.defined() ? 6 : evaluated.marker_logits.size(-1);
  if (evaluated.marker_logits.dim() != 2 || evaluated.marker_logits.size(0) != 2 || (columns != 4 && columns != 6))
    fail("marker logits " + shape_text(evaluated.marker_logits) + " for " + input +
         ": expected [N, 4] (IDH, 1p/19q, MGMT, grade), or [N, 6] with 3-class grade");
  if ((columns == 6) != (config.grade_classes == 3))
    fail("its marker logits have " + std::to_string(columns) + " columns, but model.grade_classes is " +
         std::to_string(config.grade_classes) + " (4 columns go with 2, 6 with 3)");
  for (const torch::Tensor* t : {&mask, static_cast<const torch::Tensor*>(&evaluated.marker_logits)})
    if (t->scalar_type() != torch::kFloat32)
      fail(std::string("its outputs must be float32, got ") + c10::toString(t->scalar_type()));
  if (!torch::equal(first.mask_logits, second.mask_logits) || !torch::equal(first.marker_logits, second.marker_logits))
    fail("two training-mode forwards of the same batch differ: the network draws random numbers while training "
         "(dropout?), which would make runs depend on the worker count; remove it");
  std::vector<NamedParameter> parameters;
  for (const auto& item : named_parameters())
    parameters.push_back({item.key(), item.value().dim() == 0 ? 1 : item.value().size(0)});
  groups_ = groups_by_name(parameters, columns);
}

MultiTaskOutput TorchScriptModel::forward(const torch::Tensor& x) { return call(x); }

}  // namespace fedglioma::models
