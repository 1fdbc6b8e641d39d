#include "laredo/table_identifier.hpp"

#include "laredo/error.hpp"

#include <fmt/format.h>

namespace laredo {

table_identifier::table_identifier(std::string schema_name, std::string table_name)
    : schema(std::move(schema_name)), table(std::move(table_name)) {}

table_identifier table_identifier::parse(std::string_view text) {
    const auto dot = text.find('.');
    if (dot == std::string_view::npos || dot == 0 || dot + 1 == text.size()) {
        throw error(errc::invalid_argument,
                    fmt::format("invalid table identifier \"{}\": expected schema.table", text));
    }
    return {std::string(text.substr(0, dot)), std::string(text.substr(dot + 1))};
}

std::string table_identifier::to_string() const { return schema + "." + table; }

}  // namespace laredo
