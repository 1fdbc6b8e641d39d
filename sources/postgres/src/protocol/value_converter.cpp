#include "laredo/sources/postgres/value_converter.hpp"

#include "error_text.hpp"
#include "text_parsers.hpp"

#include "laredo/error.hpp"
#include "laredo/sources/postgres/pgoutput.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <iterator>
#include <limits>

namespace laredo::sources::postgres {

namespace {

// pg_catalog's base, range and multirange types and their arrays (PostgreSQL 15, generated
// from pg_type), sorted by OID. Arrays are the types named "_..." of category 'A'.
constexpr builtin_type builtin_types[] = {
    {16, "bool", value_kind::boolean},
    {17, "bytea", value_kind::bytes},
    {18, "char", value_kind::text},
    {19, "name", value_kind::text},
    {20, "int8", value_kind::int64},
    {21, "int2", value_kind::int64},
    {22, "int2vector", value_kind::text},
    {23, "int4", value_kind::int64},
    {24, "regproc", value_kind::text},
    {25, "text", value_kind::text},
    {26, "oid", value_kind::int64},
    {27, "tid", value_kind::text},
    {28, "xid", value_kind::int64},
    {29, "cid", value_kind::int64},
    {30, "oidvector", value_kind::text},
    {114, "json", value_kind::json},
    {142, "xml", value_kind::text},
    {143, "_xml", value_kind::array},
    {199, "_json", value_kind::array},
    {271, "_xid8", value_kind::array},
    {600, "point", value_kind::text},
    {601, "lseg", value_kind::text},
    {602, "path", value_kind::text},
    {603, "box", value_kind::text},
    {604, "polygon", value_kind::text},
    {628, "line", value_kind::text},
    {629, "_line", value_kind::array},
    {650, "cidr", value_kind::text},
    {651, "_cidr", value_kind::array},
    {700, "float4", value_kind::float64},
    {701, "float8", value_kind::float64},
    {705, "unknown", value_kind::text},
    {718, "circle", value_kind::text},
    {719, "_circle", value_kind::array},
    {774, "macaddr8", value_kind::text},
    {775, "_macaddr8", value_kind::array},
    {790, "money", value_kind::text},
    {791, "_money", value_kind::array},
    {829, "macaddr", value_kind::text},
    {869, "inet", value_kind::text},
    {1000, "_bool", value_kind::array},
    {1001, "_bytea", value_kind::array},
    {1002, "_char", value_kind::array},
    {1003, "_name", value_kind::array},
    {1005, "_int2", value_kind::array},
    {1006, "_int2vector", value_kind::array},
    {1007, "_int4", value_kind::array},
    {1008, "_regproc", value_kind::array},
    {1009, "_text", value_kind::array},
    {1010, "_tid", value_kind::array},
    {1011, "_xid", value_kind::array},
    {1012, "_cid", value_kind::array},
    {1013, "_oidvector", value_kind::array},
    {1014, "_bpchar", value_kind::array},
    {1015, "_varchar", value_kind::array},
    {1016, "_int8", value_kind::array},
    {1017, "_point", value_kind::array},
    {1018, "_lseg", value_kind::array},
    {1019, "_path", value_kind::array},
    {1020, "_box", value_kind::array},
    {1021, "_float4", value_kind::array},
    {1022, "_float8", value_kind::array},
    {1027, "_polygon", value_kind::array},
    {1028, "_oid", value_kind::array},
    {1033, "aclitem", value_kind::text},
    {1034, "_aclitem", value_kind::array},
    {1040, "_macaddr", value_kind::array},
    {1041, "_inet", value_kind::array},
    {1042, "bpchar", value_kind::text},
    {1043, "varchar", value_kind::text},
    {1082, "date", value_kind::date},
    {1083, "time", value_kind::time},
    {1114, "timestamp", value_kind::timestamp},
    {1115, "_timestamp", value_kind::array},
    {1182, "_date", value_kind::array},
    {1183, "_time", value_kind::array},
    {1184, "timestamptz", value_kind::timestamptz},
    {1185, "_timestamptz", value_kind::array},
    {1186, "interval", value_kind::interval},
    {1187, "_interval", value_kind::array},
    {1231, "_numeric", value_kind::array},
    {1263, "_cstring", value_kind::array},
    {1266, "timetz", value_kind::text},
    {1270, "_timetz", value_kind::array},
    {1560, "bit", value_kind::text},
    {1561, "_bit", value_kind::array},
    {1562, "varbit", value_kind::text},
    {1563, "_varbit", value_kind::array},
    {1700, "numeric", value_kind::numeric},
    {1790, "refcursor", value_kind::text},
    {2201, "_refcursor", value_kind::array},
    {2202, "regprocedure", value_kind::text},
    {2203, "regoper", value_kind::text},
    {2204, "regoperator", value_kind::text},
    {2205, "regclass", value_kind::text},
    {2206, "regtype", value_kind::text},
    {2207, "_regprocedure", value_kind::array},
    {2208, "_regoper", value_kind::array},
    {2209, "_regoperator", value_kind::array},
    {2210, "_regclass", value_kind::array},
    {2211, "_regtype", value_kind::array},
    {2949, "_txid_snapshot", value_kind::array},
    {2950, "uuid", value_kind::uuid},
    {2951, "_uuid", value_kind::array},
    {2970, "txid_snapshot", value_kind::text},
    {3220, "pg_lsn", value_kind::text},
    {3221, "_pg_lsn", value_kind::array},
    {3614, "tsvector", value_kind::text},
    {3615, "tsquery", value_kind::text},
    {3642, "gtsvector", value_kind::text},
    {3643, "_tsvector", value_kind::array},
    {3644, "_gtsvector", value_kind::array},
    {3645, "_tsquery", value_kind::array},
    {3734, "regconfig", value_kind::text},
    {3735, "_regconfig", value_kind::array},
    {3769, "regdictionary", value_kind::text},
    {3770, "_regdictionary", value_kind::array},
    {3802, "jsonb", value_kind::json},
    {3807, "_jsonb", value_kind::array},
    {3904, "int4range", value_kind::text},
    {3905, "_int4range", value_kind::array},
    {3906, "numrange", value_kind::text},
    {3907, "_numrange", value_kind::array},
    {3908, "tsrange", value_kind::text},
    {3909, "_tsrange", value_kind::array},
    {3910, "tstzrange", value_kind::text},
    {3911, "_tstzrange", value_kind::array},
    {3912, "daterange", value_kind::text},
    {3913, "_daterange", value_kind::array},
    {3926, "int8range", value_kind::text},
    {3927, "_int8range", value_kind::array},
    {4072, "jsonpath", value_kind::text},
    {4073, "_jsonpath", value_kind::array},
    {4089, "regnamespace", value_kind::text},
    {4090, "_regnamespace", value_kind::array},
    {4096, "regrole", value_kind::text},
    {4097, "_regrole", value_kind::array},
    {4191, "regcollation", value_kind::text},
    {4192, "_regcollation", value_kind::array},
    {4451, "int4multirange", value_kind::text},
    {4532, "nummultirange", value_kind::text},
    {4533, "tsmultirange", value_kind::text},
    {4534, "tstzmultirange", value_kind::text},
    {4535, "datemultirange", value_kind::text},
    {4536, "int8multirange", value_kind::text},
    {5038, "pg_snapshot", value_kind::text},
    {5039, "_pg_snapshot", value_kind::array},
    {5069, "xid8", value_kind::text},
    {6150, "_int4multirange", value_kind::array},
    {6151, "_nummultirange", value_kind::array},
    {6152, "_tsmultirange", value_kind::array},
    {6153, "_tstzmultirange", value_kind::array},
    {6155, "_datemultirange", value_kind::array},
    {6157, "_int8multirange", value_kind::array},
};

constexpr bool sorted_by_oid() {
    for (std::size_t i = 1; i < std::size(builtin_types); ++i)
        if (builtin_types[i - 1].oid >= builtin_types[i].oid) return false;
    return true;
}
static_assert(sorted_by_oid(), "builtin_types must be sorted by OID for binary search");

int hex_value(char c) noexcept {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

bool is_digit(char c) noexcept { return c >= '0' && c <= '9'; }

value convert_bool(std::string_view text) {
    if (text.size() == 1) {
        if (text[0] == 't') return value(true);
        if (text[0] == 'f') return value(false);
    }
    detail::invalid_text(value_kind::boolean, text, "expected t or f");
}

value convert_int(std::string_view text) {
    std::int64_t v = 0;
    const char* end = text.data() + text.size();
    const auto [p, ec] = std::from_chars(text.data(), end, v);
    if (ec == std::errc::result_out_of_range) {
        detail::invalid_text(value_kind::int64, text, "out of the 64-bit range");
    }
    if (ec != std::errc() || p != end) {
        detail::invalid_text(value_kind::int64, text, "expected a decimal integer");
    }
    return value(v);
}

value convert_float(std::string_view text) {
    if (text == "NaN") return value(std::numeric_limits<double>::quiet_NaN());
    if (text == "Infinity") return value(std::numeric_limits<double>::infinity());
    if (text == "-Infinity") return value(-std::numeric_limits<double>::infinity());
    // from_chars also takes "inf", "nan(...)" and the like, which the server never prints.
    const std::size_t first = !text.empty() && text[0] == '-' ? 1 : 0;
    if (first >= text.size() || !(is_digit(text[first]) || text[first] == '.')) {
        detail::invalid_text(value_kind::float64, text, "expected a number, NaN or Infinity");
    }
    double v = 0;
    const char* end = text.data() + text.size();
    const auto [p, ec] = std::from_chars(text.data(), end, v, std::chars_format::general);
    if (ec == std::errc::result_out_of_range) {
        detail::invalid_text(value_kind::float64, text, "out of the range of a double");
    }
    if (ec != std::errc() || p != end) {
        detail::invalid_text(value_kind::float64, text, "expected a number, NaN or Infinity");
    }
    return value(v);
}

value convert_numeric(std::string_view text) {
    if (text == "NaN" || text == "Infinity" || text == "-Infinity") {
        return value(numeric_value{std::string(text)});
    }
    // numeric_out prints [-]digits[.digits], never an exponent.
    std::size_t i = !text.empty() && text[0] == '-' ? 1 : 0;
    const std::size_t int_start = i;
    while (i < text.size() && is_digit(text[i])) ++i;
    bool ok = i > int_start;
    if (ok && i < text.size() && text[i] == '.') {
        const std::size_t frac_start = ++i;
        while (i < text.size() && is_digit(text[i])) ++i;
        ok = i > frac_start;
    }
    if (!ok || i != text.size()) {
        detail::invalid_text(value_kind::numeric, text,
                             "expected [-]digits[.digits], NaN or [-]Infinity");
    }
    return value(numeric_value{std::string(text)});
}

value convert_bytes(std::string_view text) {
    std::string out;
    if (text.size() >= 2 && text[0] == '\\' && text[1] == 'x') {
        const std::size_t n = text.size() - 2;
        if (n % 2 != 0) {
            detail::invalid_text(value_kind::bytes, text, "odd number of hex digits after \\x");
        }
        out.resize(n / 2);
        for (std::size_t i = 0; i < n / 2; ++i) {
            const int hi = hex_value(text[2 + 2 * i]);
            const int lo = hex_value(text[3 + 2 * i]);
            if (hi < 0 || lo < 0) {
                detail::invalid_text(value_kind::bytes, text, "invalid hex digit after \\x");
            }
            out[i] = static_cast<char>((hi << 4) | lo);
        }
        return value(bytes_value{std::move(out)});
    }
    // bytea_output=escape: \\ for a backslash, \ooo (octal) for other bytes.
    out.reserve(text.size());
    for (std::size_t i = 0; i < text.size(); ++i) {
        if (text[i] != '\\') {
            out += text[i];
        } else if (i + 1 < text.size() && text[i + 1] == '\\') {
            out += '\\';
            ++i;
        } else if (i + 3 < text.size() + 0 && text[i + 1] >= '0' && text[i + 1] <= '3' &&
                   text[i + 2] >= '0' && text[i + 2] <= '7' && text[i + 3] >= '0' &&
                   text[i + 3] <= '7') {
            out += static_cast<char>(((text[i + 1] - '0') << 6) | ((text[i + 2] - '0') << 3) |
                                     (text[i + 3] - '0'));
            i += 3;
        } else {
            detail::invalid_text(value_kind::bytes, text,
                                 "a backslash must start \\x (hex), \\\\ or \\ooo (octal)");
        }
    }
    return value(bytes_value{std::move(out)});
}

value convert_uuid(std::string_view text) {
    if (text.size() != 36) {
        detail::invalid_text(value_kind::uuid, text, "expected 36 characters (8-4-4-4-12 hex)");
    }
    std::string out(text);
    for (std::size_t i = 0; i < 36; ++i) {
        if (i == 8 || i == 13 || i == 18 || i == 23) {
            if (text[i] != '-') {
                detail::invalid_text(value_kind::uuid, text, "expected '-' between the groups");
            }
        } else if (hex_value(text[i]) < 0) {
            detail::invalid_text(value_kind::uuid, text, "invalid hex digit");
        } else if (text[i] >= 'A' && text[i] <= 'F') {
            out[i] = static_cast<char>(text[i] - 'A' + 'a');
        }
    }
    return value(std::move(out));
}

}  // namespace

namespace detail {
void invalid_text(value_kind kind, std::string_view text, std::string_view why) {
    throw error(errc::corrupt_data,
                fmt::format("invalid {} text {}: {}", to_string(kind), quote_for_error(text), why));
}
}  // namespace detail

std::string_view to_string(value_kind kind) noexcept {
    switch (kind) {
        case value_kind::text:
            return "text";
        case value_kind::boolean:
            return "bool";
        case value_kind::int64:
            return "integer";
        case value_kind::float64:
            return "float";
        case value_kind::numeric:
            return "numeric";
        case value_kind::bytes:
            return "bytea";
        case value_kind::date:
            return "date";
        case value_kind::time:
            return "time";
        case value_kind::timestamp:
            return "timestamp";
        case value_kind::timestamptz:
            return "timestamptz";
        case value_kind::interval:
            return "interval";
        case value_kind::uuid:
            return "uuid";
        case value_kind::json:
            return "json";
        case value_kind::array:
            return "array";
    }
    return "unknown";
}

value convert_text(value_kind kind, std::string_view text) {
    switch (kind) {
        case value_kind::text:
            return value(std::string(text));
        case value_kind::boolean:
            return convert_bool(text);
        case value_kind::int64:
            return convert_int(text);
        case value_kind::float64:
            return convert_float(text);
        case value_kind::numeric:
            return convert_numeric(text);
        case value_kind::bytes:
            return convert_bytes(text);
        case value_kind::date:
            return value(date_value{detail::parse_date_text(text)});
        case value_kind::time:
            return value(time_value{detail::parse_time_text(text)});
        case value_kind::timestamp:
            return value(timestamp_value{detail::parse_timestamp_text(text)});
        case value_kind::timestamptz:
            return value(timestamptz_value{detail::parse_timestamptz_text(text)});
        case value_kind::interval:
            return value(interval_value{std::string(text)});
        case value_kind::uuid:
            return convert_uuid(text);
        case value_kind::json:
            return value(json_value{std::string(text)});
        case value_kind::array:
            return value(array_value{std::string(text)});
    }
    detail::invalid_text(kind, text, "unknown value kind");
}

const builtin_type* find_builtin_type(std::uint32_t oid) noexcept {
    const auto* end = std::end(builtin_types);
    const auto* it =
        std::lower_bound(std::begin(builtin_types), end, oid,
                         [](const builtin_type& t, std::uint32_t o) { return t.oid < o; });
    return it != end && it->oid == oid ? it : nullptr;
}

const builtin_type* find_builtin_type(std::string_view name) noexcept {
    for (const auto& t : builtin_types)
        if (t.name == name) return &t;
    return nullptr;
}

value_kind value_converter::kind_of(std::uint32_t type_oid) const noexcept {
    if (const auto* b = find_builtin_type(type_oid)) return b->kind;
    if (const auto it = types_.find(type_oid); it != types_.end()) return it->second.kind;
    return value_kind::text;
}

std::string value_converter::type_name(std::uint32_t type_oid) const {
    if (const auto* b = find_builtin_type(type_oid)) return std::string(b->name);
    if (const auto it = types_.find(type_oid); it != types_.end()) return it->second.name;
    return {};
}

value value_converter::convert(std::uint32_t type_oid, std::string_view text) const {
    try {
        return convert_text(kind_of(type_oid), text);
    } catch (const error& e) {
        const auto name = type_name(type_oid);
        detail::rethrow_with_context(
            e, fmt::format("type {} ({})", type_oid, name.empty() ? "unknown" : name));
    }
}

void value_converter::register_type(std::uint32_t type_oid, std::string name, value_kind kind) {
    auto& e = types_[type_oid];
    e.name = std::move(name);
    e.kind = kind;
    e.explicit_ = true;
}

void value_converter::apply(const type_message& message) {
    auto& e = types_[message.type_oid];
    if (e.explicit_) return;
    e.name = std::string(message.type_name);
    // A domain's Type message names its base type; pgoutput writes pg_catalog as "".
    const bool in_catalog =
        message.namespace_name.empty() || message.namespace_name == "pg_catalog";
    if (const auto* base = in_catalog ? find_builtin_type(message.type_name) : nullptr) {
        e.kind = base->kind;
    } else if (!message.type_name.empty() && message.type_name[0] == '_') {
        e.kind = value_kind::array;
    } else {
        e.kind = value_kind::text;
    }
}

}  // namespace laredo::sources::postgres
