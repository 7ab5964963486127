// Precompiled header for the library, the CLI and the tests. It holds the heavy, stable
// third-party headers that most torch-using translation units need, so that a rebuild on two
// cores parses them once. Our own headers never include these (see STYLE.md, rule 3).
#pragma once

#include <torch/nn.h>
#include <torch/optim.h>
#include <torch/serialize.h>
#include <torch/types.h>
#include <torch/utils.h>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <array>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>
