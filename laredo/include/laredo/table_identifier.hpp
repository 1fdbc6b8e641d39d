#pragma once

#include <compare>
#include <cstddef>
#include <functional>
#include <string>
#include <string_view>

namespace laredo {

// A table as `schema.table`. Parsing splits on the first '.', and both parts must be
// non-empty; anything else is an errc::invalid_argument naming the input.
struct table_identifier {
    std::string schema;
    std::string table;

    table_identifier() = default;
    table_identifier(std::string schema_name, std::string table_name);

    static table_identifier parse(std::string_view text);

    std::string to_string() const;

    friend auto operator<=>(const table_identifier&, const table_identifier&) = default;
    friend bool operator==(const table_identifier&, const table_identifier&) = default;
};

}  // namespace laredo

template <>
struct std::hash<laredo::table_identifier> {
    std::size_t operator()(const laredo::table_identifier& t) const noexcept {
        std::size_t h = std::hash<std::string>{}(t.schema);
        return h ^
               (std::hash<std::string>{}(t.table) + 0x9e3779b97f4a7c15ULL + (h << 6) + (h >> 2));
    }
};
