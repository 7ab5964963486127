#include "sim/run/client_failure.h"

#include "core/error.h"

namespace fedglioma::sim {

std::string failure_message(const std::exception_ptr& error) {
  try {
    std::rethrow_exception(error);
  } catch (const std::exception& e) {
    return message_of(e);
  } catch (...) {
    return "unknown error";
  }
}

void rethrow_if_data_changed(const std::exception_ptr& error) {
  try {
    std::rethrow_exception(error);
  } catch (const DataChangedError&) {
    throw;
  } catch (...) {
  }
}

}  // namespace fedglioma::sim
