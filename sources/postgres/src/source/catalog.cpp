#include "catalog.hpp"

#include "laredo/error.hpp"
#include "laredo/sources/postgres/pg_error.hpp"
#include "laredo/sources/postgres/sql_quote.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <map>
#include <set>

namespace laredo::sources::postgres::detail {

namespace asio = boost::asio;
using asio::awaitable;

namespace {

int to_int(std::string_view text) {
    int v = 0;
    std::from_chars(text.data(), text.data() + text.size(), v);
    return v;
}

std::uint32_t to_oid(std::string_view text) {
    std::uint32_t v = 0;
    std::from_chars(text.data(), text.data() + text.size(), v);
    return v;
}

double to_double(std::string_view text) {
    try {
        return std::stod(std::string(text));
    } catch (const std::exception&) {
        return -1;
    }
}

// "1 3 2" (an int2vector) -> {1, 3, 2}.
std::vector<int> attribute_numbers(std::string_view text) {
    std::vector<int> out;
    std::size_t start = 0;
    while (start < text.size()) {
        auto end = text.find(' ', start);
        if (end == std::string_view::npos) end = text.size();
        if (end > start) out.push_back(to_int(text.substr(start, end - start)));
        start = end + 1;
    }
    return out;
}

[[noreturn]] void refuse(const table_identifier& table, const std::string& why) {
    throw error(errc::invalid_config,
                fmt::format("PostgreSQL table {}: {}", table.to_string(), why));
}

}  // namespace

std::string qualified_name(const table_identifier& table) {
    return quote_identifier(table.schema) + "." + quote_identifier(table.table);
}

awaitable<server_facts> check_server(connection& conn) {
    const auto r = co_await conn.query(
        "SELECT current_setting('server_version_num')::int, current_setting('wal_level'), "
        "current_user, current_database(), r.rolreplication OR r.rolsuper, r.rolsuper, "
        "current_setting('max_replication_slots')::int, "
        "(SELECT count(*) FROM pg_catalog.pg_replication_slots) "
        "FROM pg_catalog.pg_roles r WHERE r.rolname = current_user");
    if (r.rows() != 1)
        throw error(errc::source_failed, "PostgreSQL: cannot read the current role's attributes");
    server_facts f;
    f.version = to_int(r.value(0, 0));
    f.wal_level = r.value(0, 1);
    f.user = r.value(0, 2);
    f.database = r.value(0, 3);
    f.can_replicate = r.value(0, 4) == "t";
    f.superuser = r.value(0, 5) == "t";
    f.max_replication_slots = to_int(r.value(0, 6));
    f.slots_in_use = to_int(r.value(0, 7));
    if (f.version < 120000) {
        throw error(errc::invalid_config,
                    fmt::format("PostgreSQL {} is too old: the PostgreSQL source needs 12 or later",
                                r.value(0, 0)));
    }
    if (f.wal_level != "logical") {
        throw error(errc::invalid_config,
                    fmt::format("PostgreSQL wal_level is '{}', logical replication needs "
                                "'logical': run ALTER SYSTEM SET wal_level = logical (or set it "
                                "in postgresql.conf) and restart the server",
                                f.wal_level));
    }
    if (!f.can_replicate) {
        throw error(errc::invalid_config,
                    fmt::format("PostgreSQL role {} may not replicate: ALTER ROLE {} REPLICATION "
                                "(or connect as a role that has REPLICATION)",
                                quote_identifier(f.user), quote_identifier(f.user)));
    }
    co_return f;
}

void check_free_slot(const server_facts& facts) {
    if (facts.slots_in_use < facts.max_replication_slots) return;
    throw error(errc::invalid_config,
                fmt::format("PostgreSQL has no free replication slot ({} of max_replication_slots "
                            "= {} in use): drop unused slots (SELECT pg_drop_replication_slot(...) "
                            "FROM pg_replication_slots WHERE NOT active) or raise "
                            "max_replication_slots and restart the server",
                            facts.slots_in_use, facts.max_replication_slots));
}

awaitable<table_catalog> describe_table(connection& conn, const table_identifier& table,
                                        const std::vector<std::string>& column_list,
                                        const std::vector<std::string>& key_columns) {
    table_catalog t;
    t.table = table;
    {
        const std::array<query_param, 2> params{table.schema, table.table};
        const auto r = co_await conn.query(
            "SELECT c.oid, c.relkind, c.relreplident, c.reltuples "
            "FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = $1 AND c.relname = $2",
            params);
        if (r.rows() == 0) {
            throw error(errc::unknown_table,
                        fmt::format("PostgreSQL table {} does not exist (or the role cannot see "
                                    "its schema)",
                                    table.to_string()));
        }
        t.oid = to_oid(r.value(0, 0));
        t.relkind = r.value(0, 1).empty() ? '?' : r.value(0, 1)[0];
        t.replica_identity = r.value(0, 2).empty() ? 'd' : r.value(0, 2)[0];
        t.estimated_rows = to_double(r.value(0, 3));
        if (t.relkind != 'r' && t.relkind != 'p') {
            const char* what = t.relkind == 'v'   ? "a view"
                               : t.relkind == 'm' ? "a materialized view"
                               : t.relkind == 'f' ? "a foreign table"
                                                  : "not a table";
            refuse(table, fmt::format("is {}: logical replication publishes tables only", what));
        }
    }

    struct attribute {
        int number;
        column_definition def;
    };
    std::vector<attribute> attributes;
    const auto oid_text = std::to_string(t.oid);
    {
        const std::array<query_param, 1> params{oid_text};
        const auto r = co_await conn.query(
            "SELECT a.attnum, a.attname, a.atttypid, t.typname, a.attnotnull, "
            "pg_catalog.pg_get_expr(d.adbin, d.adrelid), a.atttypmod, a.attgenerated <> '' "
            "FROM pg_catalog.pg_attribute a JOIN pg_catalog.pg_type t ON t.oid = a.atttypid "
            "LEFT JOIN pg_catalog.pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum "
            "WHERE a.attrelid = $1::oid AND a.attnum > 0 AND NOT a.attisdropped "
            "ORDER BY a.attnum",
            params);
        for (std::size_t i = 0; i < r.rows(); ++i) {
            if (r.value(i, 7) == "t") continue;  // generated: pgoutput does not publish it
            attribute a;
            a.number = to_int(r.value(i, 0));
            a.def.name = r.value(i, 1);
            a.def.type_oid = to_oid(r.value(i, 2));
            a.def.type = r.value(i, 3);
            a.def.nullable = r.value(i, 4) != "t";
            if (auto d = r.get(i, 5)) a.def.default_value = std::string(*d);
            const int typmod = to_int(r.value(i, 6));
            // varchar(n) / char(n): the typmod is n + 4.
            if ((a.def.type == "varchar" || a.def.type == "bpchar") && typmod > 4)
                a.def.max_length = typmod - 4;
            attributes.push_back(std::move(a));
        }
    }
    if (attributes.empty()) refuse(table, "has no columns to replicate");

    const auto name_of = [&](int number) -> std::string {
        for (const auto& a : attributes)
            if (a.number == number) return a.def.name;
        return {};
    };
    std::vector<std::string> primary_key;
    std::vector<std::string> identity_index;
    std::string identity_index_name;
    {
        const std::array<query_param, 1> params{oid_text};
        const auto r = co_await conn.query(
            "SELECT i.indisprimary, i.indisreplident, i.indkey::text, ci.relname "
            "FROM pg_catalog.pg_index i JOIN pg_catalog.pg_class ci ON ci.oid = i.indexrelid "
            "WHERE i.indrelid = $1::oid AND (i.indisprimary OR i.indisreplident)",
            params);
        for (std::size_t i = 0; i < r.rows(); ++i) {
            std::vector<std::string> names;
            for (int n : attribute_numbers(r.value(i, 2))) names.push_back(name_of(n));
            if (r.value(i, 0) == "t") primary_key = names;
            if (r.value(i, 1) == "t") {
                identity_index = names;
                identity_index_name = r.value(i, 3);
            }
        }
    }
    t.has_primary_key = !primary_key.empty();

    // Only the column list is published (and read by the baseline).
    if (!column_list.empty()) {
        std::vector<attribute> listed;
        for (const auto& a : attributes) {
            if (std::find(column_list.begin(), column_list.end(), a.def.name) != column_list.end())
                listed.push_back(a);
        }
        for (const auto& c : column_list) {
            const bool known = std::any_of(attributes.begin(), attributes.end(),
                                           [&](const attribute& a) { return a.def.name == c; });
            if (!known)
                refuse(table, fmt::format("the publication column list names column \"{}\", "
                                          "which the table does not have",
                                          c));
        }
        attributes = std::move(listed);
    }

    // The key (design "Keys"): a REPLICA IDENTITY USING INDEX index, else the primary key,
    // else configured key columns.
    std::vector<std::string> key;
    if (t.replica_identity == 'i' && !identity_index.empty()) {
        key = identity_index;
        t.key_origin = "replica identity index " + identity_index_name;
    } else if (!primary_key.empty()) {
        key = primary_key;
        t.key_origin = "primary key";
    } else if (!key_columns.empty()) {
        key = key_columns;
        t.key_origin = "configured key columns";
    } else {
        refuse(table,
               "has no primary key and no REPLICA IDENTITY USING INDEX: add a primary key, "
               "ALTER TABLE ... REPLICA IDENTITY USING INDEX <a unique index>, or "
               "configure key_columns for it");
    }
    for (std::size_t k = 0; k < key.size(); ++k) {
        auto it = std::find_if(attributes.begin(), attributes.end(),
                               [&](const attribute& a) { return a.def.name == key[k]; });
        if (it == attributes.end()) {
            refuse(table, fmt::format("key column \"{}\" ({}) is not among the replicated "
                                      "columns (a column list must include the key)",
                                      key[k], t.key_origin));
        }
        it->def.primary_key = true;
        it->def.primary_key_ordinal = static_cast<int>(k + 1);
    }

    switch (t.replica_identity) {
        case 'f':
            for (const auto& a : attributes) t.identity_columns.push_back(a.def.name);
            break;
        case 'i':
            t.identity_columns = identity_index;
            break;
        case 'd':
            t.identity_columns = primary_key;
            break;
        default:
            break;
    }

    int ordinal = 0;
    for (auto& a : attributes) {
        a.def.ordinal_position = ++ordinal;
        t.columns.push_back(a.def);
    }
    t.schema = row_schema::make(t.columns);
    co_return t;
}

awaitable<void> register_column_types(connection& conn, const std::vector<table_catalog>& tables,
                                      value_converter& types) {
    std::set<std::uint32_t> unknown;
    for (const auto& t : tables)
        for (const auto& c : t.columns)
            if (!find_builtin_type(c.type_oid)) unknown.insert(c.type_oid);
    if (unknown.empty()) co_return;
    std::string list = "{";
    for (auto oid : unknown) list += (list.size() > 1 ? "," : "") + std::to_string(oid);
    list += "}";
    const std::array<query_param, 1> params{list};
    // Each type with the type it finally rests on (a domain's base type, through domains of
    // domains).
    const auto r = co_await conn.query(
        "WITH RECURSIVE base(oid, cur) AS ("
        "  SELECT t.oid, t.oid FROM pg_catalog.pg_type t WHERE t.oid = ANY($1::oid[]) "
        "  UNION ALL SELECT b.oid, t.typbasetype FROM base b "
        "  JOIN pg_catalog.pg_type t ON t.oid = b.cur WHERE t.typtype = 'd') "
        "SELECT b.oid, o.typname, t.oid, t.typcategory FROM base b "
        "JOIN pg_catalog.pg_type t ON t.oid = b.cur JOIN pg_catalog.pg_type o ON o.oid = b.oid "
        "WHERE t.typtype <> 'd'",
        params);
    for (std::size_t i = 0; i < r.rows(); ++i) {
        const auto oid = to_oid(r.value(i, 0));
        const auto base = to_oid(r.value(i, 2));
        value_kind kind = value_kind::text;
        if (const auto* b = find_builtin_type(base)) {
            kind = b->kind;
        } else if (r.value(i, 3) == "A") {
            kind = value_kind::array;
        }
        types.register_type(oid, std::string(r.value(i, 1)), kind);
    }
}

awaitable<double> estimate_rows(connection& conn, std::uint32_t table_oid) {
    const auto oid_text = std::to_string(table_oid);
    const std::array<query_param, 1> params{oid_text};
    // The planner's estimate scaled to the table's current size (as the planner does), summed
    // over partitions for a partitioned table.
    const auto r = co_await conn.query(
        "SELECT sum(CASE WHEN c.reltuples < 0 THEN NULL WHEN c.relpages = 0 THEN c.reltuples "
        "ELSE c.reltuples / c.relpages * (pg_catalog.pg_relation_size(c.oid) / "
        "current_setting('block_size')::int) END)::float8, "
        "bool_or(c.reltuples < 0) "
        "FROM (SELECT $1::oid AS relid UNION SELECT relid FROM "
        "pg_catalog.pg_partition_tree($1::oid) WHERE isleaf) p "
        "JOIN pg_catalog.pg_class c ON c.oid = p.relid WHERE c.relkind <> 'p'",
        params);
    if (r.rows() == 0 || r.is_null(0, 0) || r.value(0, 1) == "t") co_return -1;
    co_return to_double(r.value(0, 0));
}

}  // namespace laredo::sources::postgres::detail
