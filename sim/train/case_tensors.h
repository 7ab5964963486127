#pragma once

#include <ATen/core/Tensor.h>
#include <c10/core/Device.h>

#include <map>
#include <memory>
#include <string>

#include "data/dataset.h"

namespace fedglioma::sim {

/// One case's tensors on a device: what batches are cut from.
struct CaseTensors {
  at::Tensor image;                            ///< [4, D, H, W] float
  at::Tensor mask;                             ///< [1, D, H, W] float; zeros when the case has no mask
  std::shared_ptr<const data::Sample> sample;  ///< labels, and the mask voxels for tumour-centred patches
};

/// `t` on `device`. To CUDA through pinned host memory, non-blocking on the current stream, so
/// the host thread goes on preparing work while the copy runs; on the CPU, `t` itself.
at::Tensor to_device(const at::Tensor& t, const c10::Device& device);

/// A case's tensors on `device`: on the CPU, views of the sample's own memory (no copy); on CUDA,
/// copies made through to_device().
CaseTensors case_tensors(std::shared_ptr<const data::Sample> sample, const c10::Device& device);

/// The cases of one local training on one device. On CUDA each case is copied to the device once,
/// the first time it is asked for, and kept for the rest of the local training (every epoch
/// reuses it); on the CPU nothing is kept (views cost nothing, and the disk cache's RAM budget
/// stays in force).
class DeviceCases {
 public:
  explicit DeviceCases(const c10::Device& device) : device_(device) {}

  /// The tensors of `sample` (as Prefetcher::next hands it out) on this device.
  CaseTensors get(std::shared_ptr<const data::Sample> sample);

 private:
  c10::Device device_;
  std::map<std::string, CaseTensors> resident_;  // by case id
};

}  // namespace fedglioma::sim
