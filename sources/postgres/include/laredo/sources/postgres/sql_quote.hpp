#pragma once

#include <string>
#include <string_view>

namespace laredo::sources::postgres {

// "name" with embedded double quotes doubled: safe to splice into SQL and into replication
// commands as an identifier, whatever the name contains.
std::string quote_identifier(std::string_view name);

// 'text' with embedded single quotes doubled, for servers with standard_conforming_strings
// on (the default since 9.1; a backslash is then an ordinary character). A NUL byte cannot
// appear in a PostgreSQL string: it is refused with laredo::error(errc::invalid_argument).
std::string quote_literal(std::string_view text);

}  // namespace laredo::sources::postgres
