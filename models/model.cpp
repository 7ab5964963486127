#include "models/model.h"

#include <torch/nn/modules/batchnorm.h>
// LibTorch 1.13's module header uses the functional one without including it (GCC tolerates it).
#include <torch/nn/functional/instancenorm.h>
#include <torch/nn/modules/instancenorm.h>
#include <torch/nn/modules/normalization.h>

namespace fedglioma::models {

std::string marker_group(const std::string& marker) { return "marker:" + marker; }

void set_marker_logits(MultiTaskOutput& out, const torch::Tensor& logits) {
  if (logits.size(1) != 6) {
    out.marker_logits = logits;
    return;
  }
  out.grade_logits = logits.slice(1, 3, 6);
  const torch::Tensor log_p = torch::log_softmax(out.grade_logits, 1);
  const torch::Tensor high = log_p.select(1, 2) - torch::logsumexp(log_p.slice(1, 0, 2), 1);
  out.marker_logits = torch::cat({logits.slice(1, 0, 3), high.unsqueeze(1)}, 1);
}

std::set<std::string> Model::norm_layers() const {
  std::set<std::string> owners;
  for (const auto& item : named_modules("", /*include_self=*/false)) {
    const auto& m = item.value();
    if (m->as<torch::nn::InstanceNorm3dImpl>() || m->as<torch::nn::BatchNorm3dImpl>() ||
        m->as<torch::nn::GroupNormImpl>())
      owners.insert(item.key());
  }
  return owners;
}

}  // namespace fedglioma::models
