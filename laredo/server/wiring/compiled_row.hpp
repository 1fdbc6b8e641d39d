#pragma once

#include "laredo/row.hpp"
#include "laredo/targets/memory/compiled_target.hpp"
#include "laredo/value.hpp"

#include <string>
#include <vector>

namespace laredo::server::wiring {

// What a compiled-memory target keeps per row in the server: the row's key (for paging) and
// its configured fields as JSON text, encoded once when the row arrives so queries only copy
// bytes.
struct compiled_row {
    std::vector<value> key;
    std::string json;
};

using compiled_target = targets::memory::compiled_target<compiled_row>;

}  // namespace laredo::server::wiring
