#pragma once

#include <exception>
#include <string>

namespace laredo::server {

// The message of an exception for users: a system_error's what() without the
// ": <category message> [category:value]" tail Boost appends.
std::string describe(const std::exception& e);
std::string describe(const std::exception_ptr& e);

}  // namespace laredo::server
