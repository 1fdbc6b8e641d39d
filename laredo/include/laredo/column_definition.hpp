#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace laredo {

// One column of a source table. The primary-key flags describe the key laredo uses for the
// table: its primary key, a replica-identity index, or configured key columns.
struct column_definition {
    std::string name;
    std::string type;            // the source's type name, e.g. PostgreSQL udt_name "int4"
    std::uint32_t type_oid = 0;  // PostgreSQL type OID, 0 when the source has none
    bool nullable = true;
    bool primary_key = false;
    int ordinal_position = 0;     // 1-based position in the table, 0 = unset
    int primary_key_ordinal = 0;  // 1-based position inside the key, 0 = not a key column
    std::optional<std::string> default_value;
    int max_length = 0;  // 0 = unlimited

    friend bool operator==(const column_definition&, const column_definition&) = default;
};

}  // namespace laredo
