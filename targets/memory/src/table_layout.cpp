#include "table_layout.hpp"

#include "laredo/error.hpp"

#include <fmt/format.h>

namespace laredo::targets::memory::detail {

namespace {

bool same_role(const column_definition& a, const column_definition& b) {
    return a.name == b.name && a.type == b.type && a.primary_key == b.primary_key &&
           a.primary_key_ordinal == b.primary_key_ordinal;
}

std::string column_names(const row_schema& s) {
    std::string out;
    for (const auto& c : s.columns()) {
        if (!out.empty()) out += ", ";
        out += c.name;
    }
    return out;
}

}  // namespace

std::vector<std::size_t> resolve_columns(const row_schema& schema,
                                         std::span<const std::string> names,
                                         std::string_view what) {
    std::vector<std::size_t> out;
    out.reserve(names.size());
    for (const auto& name : names) {
        const auto i = schema.index_of(name);
        if (!i) {
            throw error(errc::invalid_config,
                        fmt::format("{} names column \"{}\", which the table does not have "
                                    "(columns: {})",
                                    what, name, column_names(schema)));
        }
        out.push_back(*i);
    }
    return out;
}

std::vector<std::size_t> resolve_key(const row_schema& schema,
                                     std::span<const std::string> configured,
                                     const table_identifier& table, std::string_view target_type) {
    if (!configured.empty()) {
        return resolve_columns(schema, configured, fmt::format("the key of {}", table.to_string()));
    }
    if (schema.key_indexes().empty()) {
        throw error(errc::invalid_config,
                    fmt::format("table {} has no primary key or replica-identity index: configure "
                                "its key columns for the {} target (rows would otherwise "
                                "collapse into one)",
                                table.to_string(), target_type));
    }
    return schema.key_indexes();
}

key_views key_of(const row& r, const row_schema& schema, std::span<const std::size_t> columns) {
    if (r.empty())
        throw error(errc::invalid_argument, "a change carries no row to find the key in");
    key_views out;
    if (r.schema().get() == &schema || *r.schema() == schema) {
        for (std::size_t c : columns) out.push_back(value_view::of(r[c]));
        return out;
    }
    for (std::size_t c : columns) {
        const auto& name = schema.column(c).name;
        const value* v = r.find(name);
        if (!v) {
            throw error(errc::schema_mismatch,
                        fmt::format("row {} lacks key column \"{}\"", r.debug_string(), name));
        }
        out.push_back(value_view::of(*v));
    }
    return out;
}

key_views columns_of(packed_view r, std::span<const std::size_t> columns) {
    key_views out;
    for (std::size_t c : columns) out.push_back(r[c]);
    return out;
}

key_views views_of(std::span<const value> values) {
    key_views out;
    for (const auto& v : values) out.push_back(value_view::of(v));
    return out;
}

std::string describe(std::span<const value_view> key) {
    std::string out = "(";
    for (std::size_t i = 0; i < key.size(); ++i) {
        if (i) out += ", ";
        out += key[i].to_value().to_string();
    }
    return out + ")";
}

bool only_adds_columns(const row_schema& prev, const row_schema& next) {
    if (next.size() < prev.size()) return false;
    for (const auto& c : prev.columns()) {
        const auto i = next.index_of(c.name);
        if (!i || !same_role(c, next.column(*i))) return false;
    }
    // A column that joins the key changes what identifies a row.
    return next.key_indexes().size() == prev.key_indexes().size();
}

bool keeps_column_positions(const row_schema& prev, const row_schema& next) {
    if (next.size() < prev.size()) return false;
    for (std::size_t i = 0; i < prev.size(); ++i) {
        if (!same_role(prev.column(i), next.column(i))) return false;
    }
    return next.key_indexes().size() == prev.key_indexes().size();
}

std::string added_columns_with_defaults(const row_schema& prev, const row_schema& next) {
    std::string out;
    for (const auto& c : next.columns()) {
        if (prev.index_of(c.name) || !c.default_value) continue;
        if (!out.empty()) out += ", ";
        out += c.name + " (default " + *c.default_value + ")";
    }
    return out;
}

std::string added_column_names(const row_schema& prev, const row_schema& next) {
    std::string out;
    for (const auto& c : next.columns()) {
        if (prev.index_of(c.name)) continue;
        if (!out.empty()) out += ", ";
        out += c.name;
    }
    return out;
}

void check_row_schema(const row& r, const schema_ptr& expected, const table_identifier& table) {
    if (r.schema() == expected || (r.schema() && *r.schema() == *expected)) return;
    throw error(
        errc::schema_mismatch,
        fmt::format("a row of {} has columns ({}) but the target expects ({})", table.to_string(),
                    r.schema() ? column_names(*r.schema()) : "", column_names(*expected)));
}

}  // namespace laredo::targets::memory::detail
