#pragma once

// The configuration tests' view of a load's problems.

#include "laredo/server/config/load.hpp"

#include <string>

namespace laredo::server::config {

// Every problem of a load ("file:line: key: message"), one per line, for assertions on text.
inline std::string all_problems(const load_result& r) {
    std::string out;
    for (const auto& p : r.problems) out += p.to_string() + "\n";
    return out;
}

}  // namespace laredo::server::config
