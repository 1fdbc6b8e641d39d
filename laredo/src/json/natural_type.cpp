#include "laredo/json/values.hpp"

#include <algorithm>
#include <iterator>
#include <utility>

namespace laredo::json {

namespace {

using vt = value::type;

// PostgreSQL udt names and information_schema spellings, plus the generic names other
// sources (and hand-written schemas in tests and examples) use.
constexpr std::pair<std::string_view, vt> names[] = {
    {"int2", vt::int64},
    {"int4", vt::int64},
    {"int8", vt::int64},
    {"oid", vt::int64},
    {"xid", vt::int64},
    {"cid", vt::int64},
    {"smallint", vt::int64},
    {"integer", vt::int64},
    {"int", vt::int64},
    {"bigint", vt::int64},
    {"long", vt::int64},
    {"int16", vt::int64},
    {"int32", vt::int64},
    {"int64", vt::int64},
    {"smallserial", vt::int64},
    {"serial", vt::int64},
    {"bigserial", vt::int64},
    {"float4", vt::float64},
    {"float8", vt::float64},
    {"real", vt::float64},
    {"double precision", vt::float64},
    {"double", vt::float64},
    {"float", vt::float64},
    {"float32", vt::float64},
    {"float64", vt::float64},
    {"numeric", vt::numeric},
    {"decimal", vt::numeric},
    {"bool", vt::boolean},
    {"boolean", vt::boolean},
    {"bytea", vt::bytes},
    {"bytes", vt::bytes},
    {"binary", vt::bytes},
    {"varbinary", vt::bytes},
    {"blob", vt::bytes},
    {"date", vt::date},
    {"time", vt::time},
    {"time without time zone", vt::time},
    {"timestamp", vt::timestamp},
    {"timestamp without time zone", vt::timestamp},
    {"datetime", vt::timestamp},
    {"timestamptz", vt::timestamptz},
    {"timestamp with time zone", vt::timestamptz},
    {"interval", vt::interval},
    {"json", vt::json},
    {"jsonb", vt::json},
    {"array", vt::array},
    {"text", vt::text},
    {"string", vt::text},
};

// Lower case, type modifiers "(10)" removed, runs of spaces collapsed, ends trimmed:
// "TIMESTAMP(3) WITH TIME ZONE" → "timestamp with time zone".
std::string normalize(std::string_view name) {
    std::string out;
    out.reserve(name.size());
    int depth = 0;
    for (char c : name) {
        if (c == '(') {
            ++depth;
            continue;
        }
        if (c == ')') {
            if (depth > 0) --depth;
            continue;
        }
        if (depth > 0) continue;
        if (c == ' ' || c == '\t') {
            if (!out.empty() && out.back() != ' ') out += ' ';
            continue;
        }
        out += (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
    }
    while (!out.empty() && out.back() == ' ') out.pop_back();
    return out;
}

}  // namespace

value::type natural_type(std::string_view type_name) noexcept {
    try {
        const std::string n = normalize(type_name);
        if (!n.empty() && n.front() == '_') return vt::array;  // PostgreSQL array udt: "_int4"
        if (n.size() > 2 && n.ends_with("[]")) return vt::array;
        const auto* it = std::find_if(std::begin(names), std::end(names),
                                      [&](const auto& p) { return p.first == n; });
        return it == std::end(names) ? vt::text : it->second;
    } catch (...) {
        return vt::text;  // only std::bad_alloc can get here
    }
}

value::type natural_type(const column_definition& column) noexcept {
    return natural_type(column.type);
}

}  // namespace laredo::json
