#pragma once

#include <exception>
#include <string>

namespace fedglioma::sim {

// How both round loops (synchronous and asynchronous) treat a client whose training threw: it is
// logged and left out, except when the data changed under the run.

/// The message of a client's failure, for its record.
std::string failure_message(const std::exception_ptr& error);

/// Rethrows `error` when it is a DataChangedError (a case edited under the run stops it);
/// returns otherwise.
void rethrow_if_data_changed(const std::exception_ptr& error);

}  // namespace fedglioma::sim
