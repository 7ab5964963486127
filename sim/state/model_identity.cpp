#include "sim/state/model_identity.h"

#include <nlohmann/json.hpp>

#include "core/error.h"
#include "core/hash.h"
#include "core/json_document.h"
#include "sim/state/model_state.h"

namespace fedglioma::sim {

namespace {

// The model section as it identifies a network: a TorchScript network's file is where it lies,
// model.fingerprint what it is; the built-in network's sections read as they did before the keys
// existed.
nlohmann::json identified_model(nlohmann::json model) {
  model.erase("path");
  if (model.value("fingerprint", "").empty()) model.erase("fingerprint");
  if (model.value("segmentation", "whole_tumour") == "whole_tumour") model.erase("segmentation");
  return model;
}

// The resolved config without the settings that change no number (determinism.md): two runs
// that differ only in these train the same model, byte for byte, and record the same run.
nlohmann::json numeric_config(nlohmann::json config) {
  for (const char* key : {"workers", "distributed_timeout_s", "client_state_ram_gb", "checkpoint_every", "tensorboard",
                          "report"})
    config["runtime"].erase(key);
  // The manifest's path, which differs between hosts and checkouts, is not the data: the data
  // identity fingerprints the cases themselves.
  for (const char* key : {"manifest", "cache_dir", "cache_ram_gb"}) config["data"].erase(key);
  if (config.contains("eval")) config["eval"].erase("select_by");  // picks a round to report; trains nothing
  if (config.contains("model")) config["model"] = identified_model(config["model"]);
  return config;
}

}  // namespace

RunFingerprint run_fingerprint(const std::string& resolved_config_json, const std::string& data_identity) {
  return {hex64(fnv1a(numeric_config(parse_json_document(resolved_config_json)).dump())), hex64(fnv1a(data_identity))};
}

std::string model_identity(const std::string& resolved_config_json, const std::string& data_identity) {
  const nlohmann::json config = parse_json_document(resolved_config_json);
  nlohmann::json identity;
  identity["fedglioma"] = FEDGLIOMA_VERSION;
  identity["model"] = identified_model(config.at("model"));
  identity["preprocessing"] = {{"size", config.at("data").at("size")},
                               {"spacing", config.at("data").at("spacing")},
                               {"on_geometry_mismatch", config.at("data").at("on_geometry_mismatch")}};
  if (!data_identity.empty()) {
    const RunFingerprint run = run_fingerprint(resolved_config_json, data_identity);
    identity["run"] = {{"config", run.config}, {"data", run.data}};
  }
  return identity.dump(2) + "\n";
}

namespace {

nlohmann::json parsed_record(const std::string& model_path, const std::string& text) {
  try {
    return parse_json_document(text);
  } catch (const std::exception& e) {
    throw IoError("'" + model_path + "': its fedglioma.json record is damaged (" + std::string(e.what()) + ")");
  }
}

}  // namespace

ModelRunMatch check_model_run(const std::string& model_path, const std::string& expected) {
  const std::string stored = read_model_identity(model_path);
  ModelRunMatch out;
  if (stored.empty()) return out;
  const nlohmann::json was = parsed_record(model_path, stored), now = parsed_record(model_path, expected);
  if (!was.contains("run") || !now.contains("run")) return out;
  out.recorded = true;
  out.same_config = was["run"].value("config", "") == now["run"].value("config", "");
  out.same_data = was["run"].value("data", "") == now["run"].value("data", "");
  return out;
}

void check_model_identity(const std::string& model_path, const std::string& expected) {
  const std::string stored = read_model_identity(model_path);
  if (stored.empty())
    throw ConfigError("'" + model_path +
                      "' records no model config or preprocessing (written by an older fedglioma, or saved from "
                      "Python), so predict cannot check that it matches the config; pass --skip-identity-check to "
                      "use it with this config anyway");
  nlohmann::json was = parsed_record(model_path, stored), now = parsed_record(model_path, expected);
  for (const char* reader_only : {"fedglioma", "run"}) {  // which run made it does not matter to predict
    was.erase(reader_only);
    now.erase(reader_only);
  }
  if (was != now)
    throw ConfigError("'" + model_path + "' was trained with another model or preprocessing than the config gives (" +
                      "in the model -> in the config: " + json_differences(was, now) +
                      "); give the run's own config with --config, or pass --skip-identity-check");
}

}  // namespace fedglioma::sim
