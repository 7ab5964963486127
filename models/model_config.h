#pragma once

#include <cstdint>
#include <string>

namespace fedglioma::models {

/// A config's `model` section: which network (`name`, looked up in models/model_factory) and its
/// hyper-parameters. The fields from `depth` to `head_features` are MultiTaskUNet3D's; a
/// TorchScript network (name "torchscript") reads `path`, `fingerprint` and `grade_classes`.
struct ModelConfig {
  std::string name = "multitask_unet3d";
  std::int64_t depth = 4;
  std::int64_t base_channels = 16;
  std::int64_t max_channels = 320;
  std::string norm = "instance";
  std::int64_t grade_classes = 2;  ///< 2: grade 4 vs 2-3 (BCE); 3: grades 2 / 3 / 4 (cross-entropy)
  double dropout = 0.0;            ///< marker-head dropout, masks from the client's generator
  bool task_uncertainty = false;   ///< learned per-task loss weights (Kendall et al. 2018)
  std::int64_t head_hidden = 64;
  bool tumour_pooling = true;  ///< marker heads also see the tumour-weighted bottleneck mean
  std::string head_features = "bottleneck";  ///< bottleneck | all_levels: what the marker heads pool
  /// "whole_tumour" (one mask output) or "brats_regions" (three: whole tumour, tumour core,
  /// enhancing tumour, region-based as nnU-Net trains BraTS)
  std::string segmentation = "whole_tumour";
  std::string path;         ///< name "torchscript": the scripted network's file (absolute once resolved)
  std::string fingerprint;  ///< name "torchscript": FNV-1a 64 of that file's bytes, hex (the config records it)
};

}  // namespace fedglioma::models
