#pragma once

#include <map>
#include <string>
#include <vector>

#include <sys/types.h>

namespace fedglioma::experiments {

/// Starts this executable again (/proc/self/exe) with `args` (after the program name), the
/// environment variables `env` set on top of this process's, and, when `log` is given, stdout
/// and stderr appended to that file. The child is sent SIGTERM when this process ends, however it
/// ends (Linux's parent-death signal), so no child outlives a killed sweep or launch. Returns the
/// child's pid; throws Error when fork fails.
pid_t spawn_self(const std::vector<std::string>& args, const std::map<std::string, std::string>& env = {},
                 const std::string& log = {});

/// "exited with status N" / "was killed by signal N" for a waitpid status.
std::string describe_exit(int status);

}  // namespace fedglioma::experiments
