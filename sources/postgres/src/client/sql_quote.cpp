#include "laredo/sources/postgres/sql_quote.hpp"

#include "laredo/error.hpp"

namespace laredo::sources::postgres {

namespace {
std::string quote(std::string_view text, char q) {
    std::string out;
    out.reserve(text.size() + 2);
    out.push_back(q);
    for (char c : text) {
        if (c == q) out.push_back(q);
        out.push_back(c);
    }
    out.push_back(q);
    return out;
}
}  // namespace

std::string quote_identifier(std::string_view name) {
    if (name.find('\0') != std::string_view::npos)
        throw error(errc::invalid_argument, "an SQL identifier cannot contain a NUL byte");
    return quote(name, '"');
}

std::string quote_literal(std::string_view text) {
    if (text.find('\0') != std::string_view::npos)
        throw error(errc::invalid_argument, "an SQL string literal cannot contain a NUL byte");
    return quote(text, '\'');
}

}  // namespace laredo::sources::postgres
