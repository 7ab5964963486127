#pragma once

#include <stdexcept>
#include <string>

namespace fedglioma {

/// Base of every failure caused by the user's input (a config, a manifest, a data file).
/// Its message names the file, case or field and says what was expected; the CLI prints it and
/// exits non-zero. Internal invariants use assertions instead.
class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// A configuration key that is unknown, missing, of the wrong type or out of range.
class ConfigError : public Error {
 public:
  using Error::Error;
};

/// A data file, manifest record or label that cannot be used as it is.
class DataError : public Error {
 public:
  using Error::Error;
};

/// Data that a running run checked at its start and that changed under it (a source scan edited
/// while its cases stream from the disk cache): unlike a client's other failures, which leave it
/// out of one round, this stops the run, since every later round would train on other data.
class DataChangedError : public DataError {
 public:
  using DataError::DataError;
};

/// A file that cannot be read or written (permissions, disk full, missing folder).
class IoError : public Error {
 public:
  using Error::Error;
};

/// The message of `e` for a user: LibTorch's errors (c10::Error) without the C++ stack trace
/// they carry, any other exception's what().
std::string message_of(const std::exception& e);

}  // namespace fedglioma
