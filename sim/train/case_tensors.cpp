#include "sim/train/case_tensors.h"

#include <torch/types.h>

namespace fedglioma::sim {

at::Tensor to_device(const at::Tensor& t, const c10::Device& device) {
  if (!device.is_cuda()) return t.to(device);
  return t.pin_memory().to(device, /*non_blocking=*/true);
}

CaseTensors case_tensors(std::shared_ptr<const data::Sample> sample, const c10::Device& device) {
  const auto shape = data::dhw(sample->geometry.size);
  CaseTensors out;
  out.image = to_device(
      torch::from_blob(const_cast<float*>(sample->image.data()), {4, shape[0], shape[1], shape[2]}, torch::kFloat32),
      device);
  out.mask = sample->mask.empty()
                 ? torch::zeros({1, shape[0], shape[1], shape[2]}, torch::TensorOptions().device(device))
                 : to_device(torch::from_blob(const_cast<std::uint8_t*>(sample->mask.data()),
                                              {1, shape[0], shape[1], shape[2]}, torch::kUInt8),
                             device)
                       .to(torch::kFloat32);
  out.sample = std::move(sample);
  return out;
}

CaseTensors DeviceCases::get(std::shared_ptr<const data::Sample> sample) {
  if (!device_.is_cuda()) return case_tensors(std::move(sample), device_);
  const auto found = resident_.find(sample->id);
  if (found != resident_.end()) return found->second;
  const std::string id = sample->id;
  return resident_.emplace(id, case_tensors(std::move(sample), device_)).first->second;
}

}  // namespace fedglioma::sim
