#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "models/model.h"

namespace fedglioma::models {

/// A parameter as the grouping sees it: its name (named_parameters()) and its rows (size(0); 1
/// for a scalar).
struct NamedParameter {
  std::string name;
  std::int64_t rows = 1;
};

/// The parameter groups, or why a network has none.
struct NamedGroups {
  std::vector<ParameterGroup> groups;  ///< empty when `problem` is set
  std::string problem;                 ///< names the parameter that fits no group, and what was expected
};

/// The parameter groups of a network whose parameters are named as the built-in one's are (the
/// documented names a TorchScript network follows, docs/model.md "Parameter groups"):
///   - `encoder.*`: the encoder group;
///   - `upsample.*`, `decoder.*`, `mask_head.*`: the mask decoder;
///   - `marker_head.*`: the marker trunk, except the last layer (the module owning the last
///     `marker_head.` parameter), whose rows are the marker outputs (`marker_outputs`: 4, or 6
///     with 3-class grade): row m is marker m's, grade takes the last rows;
///   - `task_log_variance` (5 rows): row 0 with the mask decoder, row 1 + m with marker m.
/// Any other name, an output layer with other than `marker_outputs` rows or no `marker_head.`
/// parameter at all leaves the network without groups, and `problem` says why.
NamedGroups groups_by_name(const std::vector<NamedParameter>& parameters, std::int64_t marker_outputs);

}  // namespace fedglioma::models
