#include "laredo/error.hpp"
#include "laredo/json/values.hpp"

#include "time_text.hpp"

#include <boost/json/serialize.hpp>

#include <fmt/format.h>

#include <charconv>
#include <limits>

namespace laredo::json {

namespace {

constexpr std::int64_t max_exact_integer = std::int64_t{1} << 53;

// Names go into files as JSON strings, which must be valid UTF-8. Replacing bytes would
// silently rename a column, so refuse instead (PostgreSQL with client_encoding=UTF8 never
// sends such names).
const std::string& checked(const std::string& text, std::string_view what) {
    if (!is_valid_utf8(text)) {
        throw error(errc::invalid_argument,
                    fmt::format("{} \"{}\" is not valid UTF-8", what, sanitize_utf8(text)));
    }
    return text;
}

const boost::json::object& expect_object(const boost::json::value& j, std::string_view what) {
    if (!j.is_object()) {
        throw error(errc::corrupt_data, fmt::format("{}: expected an object, got {}", what,
                                                    boost::json::to_string(j.kind())));
    }
    return j.get_object();
}

const boost::json::value& required(const boost::json::object& o, std::string_view key,
                                   std::string_view where) {
    const auto* v = o.if_contains(key);
    if (!v) throw error(errc::corrupt_data, fmt::format("{}: missing \"{}\"", where, key));
    return *v;
}

[[noreturn]] void bad_field(std::string_view where, std::string_view key,
                            std::string_view expected) {
    throw error(errc::corrupt_data, fmt::format("{}: \"{}\" must be {}", where, key, expected));
}

std::string get_string(const boost::json::value& v, std::string_view where, std::string_view key) {
    if (!v.is_string()) bad_field(where, key, "a string");
    return std::string(v.get_string());
}

bool get_bool(const boost::json::value& v, std::string_view where, std::string_view key) {
    if (!v.is_bool()) bad_field(where, key, "true or false");
    return v.get_bool();
}

std::int64_t get_integer(const boost::json::value& v, std::string_view where, std::string_view key,
                         std::int64_t min, std::int64_t max) {
    std::int64_t i = 0;
    if (v.is_int64()) {
        i = v.get_int64();
    } else if (v.is_uint64() && v.get_uint64() <= static_cast<std::uint64_t>(
                                                      std::numeric_limits<std::int64_t>::max())) {
        i = static_cast<std::int64_t>(v.get_uint64());
    } else {
        bad_field(where, key, fmt::format("an integer from {} to {}", min, max));
    }
    if (i < min || i > max)
        bad_field(where, key, fmt::format("an integer from {} to {}", min, max));
    return i;
}

// A uint64 as a number, or a decimal string where a double could not hold it.
boost::json::value encode_u64(std::uint64_t v) {
    if (v > static_cast<std::uint64_t>(max_exact_integer))
        return boost::json::string(std::to_string(v));
    return v;
}

std::uint64_t decode_u64(const boost::json::value& v, std::string_view where,
                         std::string_view key) {
    if (v.is_uint64()) return v.get_uint64();
    if (v.is_int64() && v.get_int64() >= 0) return static_cast<std::uint64_t>(v.get_int64());
    if (v.is_string()) {
        const auto& s = v.get_string();
        std::uint64_t u = 0;
        const auto r = std::from_chars(s.data(), s.data() + s.size(), u);
        if (!s.empty() && r.ec == std::errc{} && r.ptr == s.data() + s.size()) return u;
    }
    bad_field(where, key, "an unsigned integer (a number or a decimal string)");
}

change_action parse_action(const boost::json::value& v) {
    if (v.is_string()) {
        for (auto a : {change_action::insert, change_action::update, change_action::delete_,
                       change_action::truncate}) {
            if (v.get_string() == to_string(a)) return a;
        }
    }
    bad_field("change", "action", "one of \"INSERT\", \"UPDATE\", \"DELETE\", \"TRUNCATE\"");
}

boost::json::value encode_change_row(const row& r) {
    if (r.empty()) return nullptr;
    return boost::json::object{{"columns", encode_columns(r.schema()->columns())},
                               {"fingerprint", to_hex(r.schema()->fingerprint())},
                               {"values", encode_row(r)}};
}

row decode_change_row(const boost::json::value& v, std::string_view key, const schema_ptr& reuse,
                      schema_ptr& made) {
    if (v.is_null()) return {};
    const std::string where = fmt::format("change \"{}\"", key);
    const auto& o = expect_object(v, where);
    auto columns = decode_columns(required(o, "columns", where));
    schema_ptr schema;
    if (reuse && reuse->columns() == columns) {
        schema = reuse;
    } else {
        try {
            schema = row_schema::make(std::move(columns));
        } catch (const error& e) {
            throw error(errc::corrupt_data, fmt::format("{}: {}", where, e.what()));
        }
    }
    const auto stored =
        from_hex(get_string(required(o, "fingerprint", where), where, "fingerprint"));
    if (stored != schema->fingerprint()) {
        throw error(errc::corrupt_data,
                    fmt::format("{}: schema fingerprint {} does not match its columns ({})", where,
                                to_hex(stored), to_hex(schema->fingerprint())));
    }
    const auto& values = required(o, "values", where);
    try {
        row r = decode_row(expect_object(values, where + " values"), schema);
        made = schema;
        return r;
    } catch (const error& e) {
        throw error(errc::corrupt_data, fmt::format("{}: {}", where, e.what()));
    }
}

}  // namespace

boost::json::object encode_row(const row& r) {
    boost::json::object o;
    if (r.empty()) return o;
    const auto& schema = *r.schema();
    o.reserve(schema.size());
    for (std::size_t i = 0; i < schema.size(); ++i) {
        const auto& c = schema.column(i);
        o.emplace(checked(c.name, "column name"), encode_value(r[i], natural_type(c)));
    }
    return o;
}

row decode_row(const boost::json::object& o, const schema_ptr& schema) {
    if (!schema) throw error(errc::invalid_argument, "decode_row needs a schema");
    std::vector<value> values(schema->size());
    std::vector<bool> seen(schema->size());
    for (const auto& [key, j] : o) {
        const auto i = schema->index_of(std::string_view(key.data(), key.size()));
        if (!i) {
            throw error(errc::corrupt_data,
                        fmt::format("row has unknown column \"{}\"", std::string_view(key)));
        }
        try {
            values[*i] = decode_value(j, natural_type(schema->column(*i)));
        } catch (const error& e) {
            throw error(errc::corrupt_data,
                        fmt::format("column \"{}\": {}", std::string_view(key), e.what()));
        }
        seen[*i] = true;
    }
    for (std::size_t i = 0; i < seen.size(); ++i) {
        if (!seen[i]) {
            throw error(errc::corrupt_data,
                        fmt::format("row is missing column \"{}\"", schema->column(i).name));
        }
    }
    return row(schema, std::move(values));
}

boost::json::array encode_columns(const std::vector<column_definition>& columns) {
    boost::json::array a;
    a.reserve(columns.size());
    for (const auto& c : columns) {
        boost::json::object o;
        o.reserve(9);
        o.emplace("name", checked(c.name, "column name"));
        o.emplace("type", checked(c.type, "column type"));
        o.emplace("type_oid", c.type_oid);
        o.emplace("nullable", c.nullable);
        o.emplace("primary_key", c.primary_key);
        o.emplace("ordinal_position", c.ordinal_position);
        o.emplace("primary_key_ordinal", c.primary_key_ordinal);
        if (c.default_value) {
            o.emplace("default_value", checked(*c.default_value, "column default"));
        } else {
            o.emplace("default_value", nullptr);
        }
        o.emplace("max_length", c.max_length);
        a.emplace_back(std::move(o));
    }
    return a;
}

std::vector<column_definition> decode_columns(const boost::json::value& j) {
    if (!j.is_array()) throw error(errc::corrupt_data, "columns: expected an array");
    std::vector<column_definition> out;
    out.reserve(j.get_array().size());
    constexpr auto int_max = std::numeric_limits<int>::max();
    for (const auto& item : j.get_array()) {
        const std::string where = fmt::format("column {}", out.size() + 1);
        const auto& o = expect_object(item, where);
        column_definition c;
        c.name = get_string(required(o, "name", where), where, "name");
        const std::string named = fmt::format("column \"{}\"", c.name);
        c.type = get_string(required(o, "type", named), named, "type");
        for (const auto& [key, v] : o) {
            const std::string_view k(key.data(), key.size());
            if (k == "name" || k == "type") continue;
            if (k == "type_oid") {
                c.type_oid = static_cast<std::uint32_t>(
                    get_integer(v, named, k, 0, std::numeric_limits<std::uint32_t>::max()));
            } else if (k == "nullable") {
                c.nullable = get_bool(v, named, k);
            } else if (k == "primary_key") {
                c.primary_key = get_bool(v, named, k);
            } else if (k == "ordinal_position") {
                c.ordinal_position = static_cast<int>(get_integer(v, named, k, 0, int_max));
            } else if (k == "primary_key_ordinal") {
                c.primary_key_ordinal = static_cast<int>(get_integer(v, named, k, 0, int_max));
            } else if (k == "default_value") {
                if (!v.is_null()) c.default_value = get_string(v, named, k);
            } else if (k == "max_length") {
                c.max_length = static_cast<int>(get_integer(v, named, k, 0, int_max));
            } else {
                throw error(errc::corrupt_data, fmt::format("{}: unknown field \"{}\"", named, k));
            }
        }
        out.push_back(std::move(c));
    }
    return out;
}

boost::json::object encode_change(const change_event& change) {
    boost::json::object o;
    o.reserve(8);
    o.emplace("table", boost::json::object{{"schema", checked(change.table.schema, "schema name")},
                                           {"table", checked(change.table.table, "table name")}});
    o.emplace("action", to_string(change.action));
    o.emplace("timestamp", format_time_point(change.timestamp));
    if (change.commit_timestamp) {
        o.emplace("commit_timestamp", format_time_point(*change.commit_timestamp));
    } else {
        o.emplace("commit_timestamp", nullptr);
    }
    o.emplace("transaction_id", encode_u64(change.transaction_id));
    o.emplace("ends_transaction", change.ends_transaction);
    o.emplace("new_values", encode_change_row(change.new_values));
    o.emplace("old_values", encode_change_row(change.old_values));
    return o;
}

change_event decode_change(const boost::json::object& o) {
    constexpr std::string_view where = "change";
    change_event c;
    const auto& table = required(o, "table", where);
    if (table.is_string()) {
        try {
            c.table = table_identifier::parse(table.get_string());
        } catch (const error& e) {
            throw error(errc::corrupt_data, fmt::format("change: {}", e.what()));
        }
    } else {
        const auto& t = expect_object(table, "change \"table\"");
        c.table.schema =
            get_string(required(t, "schema", "change table"), "change table", "schema");
        c.table.table = get_string(required(t, "table", "change table"), "change table", "table");
    }
    c.action = parse_action(required(o, "action", where));
    try {
        c.timestamp =
            parse_time_point(get_string(required(o, "timestamp", where), where, "timestamp"));
        const auto& commit = required(o, "commit_timestamp", where);
        if (!commit.is_null())
            c.commit_timestamp = parse_time_point(get_string(commit, where, "commit_timestamp"));
    } catch (const error& e) {
        throw error(errc::corrupt_data, fmt::format("change: {}", e.what()));
    }
    c.transaction_id = decode_u64(required(o, "transaction_id", where), where, "transaction_id");
    c.ends_transaction =
        get_bool(required(o, "ends_transaction", where), where, "ends_transaction");
    schema_ptr new_schema, old_schema;
    c.new_values =
        decode_change_row(required(o, "new_values", where), "new_values", nullptr, new_schema);
    c.old_values =
        decode_change_row(required(o, "old_values", where), "old_values", new_schema, old_schema);
    return c;
}

std::string format_time_point(std::chrono::system_clock::time_point t) {
    const auto ns =
        std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count();
    if (ns % 1000 == 0) return detail::format_date_time(ns / 1000, 6, true);
    return detail::format_date_time(ns, 9, true);
}

std::chrono::system_clock::time_point parse_time_point(std::string_view text) {
    const auto ns = detail::parse_date_time(text, 9, true);
    if (!ns) {
        throw error(errc::corrupt_data,
                    fmt::format("invalid time \"{}\": expected RFC 3339, e.g. "
                                "\"2024-01-02T03:04:05.123456Z\", within years 1678..2261",
                                sanitize_utf8(text.substr(0, 60))));
    }
    return std::chrono::system_clock::time_point(
        std::chrono::duration_cast<std::chrono::system_clock::duration>(
            std::chrono::nanoseconds(*ns)));
}

}  // namespace laredo::json
