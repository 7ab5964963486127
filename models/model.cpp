#include "models/model.h"

namespace fedglioma::models {

std::string marker_group(const std::string& marker) { return "marker:" + marker; }

}  // namespace fedglioma::models
