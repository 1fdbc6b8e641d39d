#pragma once

// The two ways a command fails, mapped to the exit codes: a usage error (2) and a call that
// failed (1). Both carry what to do next, printed after the message.

#include <stdexcept>
#include <string>

namespace laredo::cli {

inline constexpr int exit_ok = 0;
inline constexpr int exit_failed = 1;
inline constexpr int exit_usage = 2;

// The command line asks for something that cannot be sent (a bad --key, a missing table).
struct usage_error : std::runtime_error {
    explicit usage_error(const std::string& message, std::string next = {})
        : std::runtime_error(message), hint(std::move(next)) {}
    std::string hint;
};

// The server could not be reached, or answered with an error.
struct call_failed : std::runtime_error {
    explicit call_failed(const std::string& message, std::string next = {})
        : std::runtime_error(message), hint(std::move(next)) {}
    std::string hint;
};

}  // namespace laredo::cli
