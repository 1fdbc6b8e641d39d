#pragma once

// Private pieces shared by the files of the indexed target.

#include "laredo/row.hpp"
#include "laredo/targets/memory/indexed_target.hpp"

#include <optional>

namespace laredo::targets::memory {

// One change as listeners see it.
struct indexed_target::note {
    std::optional<row> old_row;
    std::optional<row> new_row;
};

}  // namespace laredo::targets::memory
