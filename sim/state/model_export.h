#pragma once

#include <filesystem>
#include <string>

#include "models/model_config.h"

namespace fedglioma::sim {

/// Writes the model in `model_path` (a model.pt trained under `model` of the resolved config
/// `resolved_config_json`) as a safetensors file: every parameter and buffer under its
/// named_parameters / named_buffers name (what models/multitask_unet3d.py's load_state_dict
/// takes), float32 as F32 and integer buffers as I64, with metadata `format` "pt",
/// `fedglioma.config` (the resolved config) and `fedglioma.identity` (model.pt's own record, when
/// it has one). Throws what load_state_dict throws for an unusable model.pt; IoError on writing.
void export_safetensors(const models::ModelConfig& model, const std::string& resolved_config_json,
                        const std::filesystem::path& model_path, const std::filesystem::path& out);

}  // namespace fedglioma::sim
