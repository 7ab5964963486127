#include "models/named_groups.h"

#include <array>

#include "core/markers.h"

namespace fedglioma::models {
namespace {

bool starts_with(const std::string& s, const char* prefix) { return s.rfind(prefix, 0) == 0; }

// The module that owns `name` ("marker_head.2.weight" -> "marker_head.2").
std::string owner(const std::string& name) { return name.substr(0, name.rfind('.')); }

constexpr const char* kExpected =
    "the documented names are encoder.*, upsample.*, decoder.*, mask_head.*, marker_head.* and task_log_variance "
    "(docs/model.md, \"Parameter groups\")";

// The last marker_head layer: the module owning the last marker_head. parameter; "" if none.
std::string output_layer(const std::vector<NamedParameter>& parameters) {
  std::string last;
  for (const NamedParameter& p : parameters)
    if (starts_with(p.name, "marker_head.")) last = owner(p.name);
  return last;
}

}  // namespace

NamedGroups groups_by_name(const std::vector<NamedParameter>& parameters, std::int64_t marker_outputs) {
  const std::string output = output_layer(parameters);
  const auto markers = static_cast<std::int64_t>(kMarkers.size());
  std::vector<ParameterGroup> groups = {{kEncoderGroup, {}}, {kMaskDecoderGroup, {}}, {kMarkerTrunkGroup, {}}};
  for (const char* marker : kMarkers) groups.push_back({marker_group(marker), {}});
  auto marker_rows = [&](std::size_t m) { return &groups[3 + m].slices; };
  bool task_weights = false;
  for (const NamedParameter& p : parameters) {
    if (starts_with(p.name, "encoder.")) {
      groups[0].slices.push_back({p.name});
    } else if (starts_with(p.name, "upsample.") || starts_with(p.name, "decoder.") || starts_with(p.name, "mask_head.")) {
      groups[1].slices.push_back({p.name});
    } else if (starts_with(p.name, "marker_head.") && owner(p.name) != output) {
      groups[2].slices.push_back({p.name});
    } else if (starts_with(p.name, "marker_head.")) {
      if (p.rows != marker_outputs)
        return {{}, "its marker output layer's parameter '" + p.name + "' has " + std::to_string(p.rows) +
                        " rows, expected one per marker output (" + std::to_string(marker_outputs) + ")"};
      for (std::int64_t m = 0; m < markers; ++m)
        marker_rows(static_cast<std::size_t>(m))->push_back({p.name, m, m + 1 == markers ? marker_outputs : m + 1});
    } else if (p.name == "task_log_variance" && p.rows == markers + 1) {
      task_weights = true;
    } else {
      return {{}, "its parameter '" + p.name + "' is in no parameter group; " + std::string(kExpected)};
    }
  }
  if (task_weights) {  // after each group's layers, as the built-in network has always listed them
    groups[1].slices.push_back({"task_log_variance", 0, 1});
    for (std::int64_t m = 0; m < markers; ++m)
      marker_rows(static_cast<std::size_t>(m))->push_back({"task_log_variance", m + 1, m + 2});
  }
  if (output.empty()) return {{}, "it has no marker_head.* parameter (the marker output layer); " + std::string(kExpected)};
  return {groups, ""};
}

}  // namespace fedglioma::models
