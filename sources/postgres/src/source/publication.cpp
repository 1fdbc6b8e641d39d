#include "publication.hpp"

#include "laredo/error.hpp"
#include "laredo/sources/postgres/sql_quote.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>

namespace laredo::sources::postgres::detail {

namespace asio = boost::asio;
using asio::awaitable;

namespace {

// What a publication laredo created says about itself (COMMENT ON PUBLICATION).
constexpr std::string_view managed_marker = "laredo-managed publication";

// "{a,\"b c\"}" (a name[] as text) -> {"a", "b c"}.
std::vector<std::string> parse_name_array(std::string_view text) {
    std::vector<std::string> out;
    if (text.size() < 2 || text.front() != '{' || text.back() != '}') return out;
    text = text.substr(1, text.size() - 2);
    std::string current;
    bool quoted = false;
    bool any = false;
    for (std::size_t i = 0; i < text.size(); ++i) {
        const char c = text[i];
        if (quoted) {
            if (c == '\\' && i + 1 < text.size()) {
                current += text[++i];
            } else if (c == '"') {
                quoted = false;
            } else {
                current += c;
            }
        } else if (c == '"') {
            quoted = true;
            any = true;
        } else if (c == ',') {
            out.push_back(std::move(current));
            current.clear();
            any = false;
        } else {
            current += c;
            any = true;
        }
    }
    if (any || !current.empty()) out.push_back(std::move(current));
    return out;
}

bool publishes(const std::vector<std::string>& publish, std::string_view op) {
    return std::find(publish.begin(), publish.end(), op) != publish.end();
}

std::string publish_list(const std::vector<std::string>& publish) {
    std::string out;
    for (const auto& op : publish) out += (out.empty() ? "" : ", ") + op;
    return out;
}

// `"s"."t" ("a", "b") WHERE (filter)`.
std::string table_spec(const table_identifier& table, const published_table& p) {
    std::string spec = qualified_name(table);
    if (!p.columns.empty()) {
        spec += " (";
        for (std::size_t i = 0; i < p.columns.size(); ++i)
            spec += (i ? ", " : "") + quote_identifier(p.columns[i]);
        spec += ")";
    }
    if (!p.row_filter.empty()) spec += " WHERE (" + p.row_filter + ")";
    return spec;
}

// A row filter as the server prints it back: the expression in parentheses, or as written.
bool same_filter(const std::string& configured, const std::string& stored) {
    if (configured.empty() || stored.empty()) return configured.empty() && stored.empty();
    return stored == configured || stored == "(" + configured + ")";
}

// Refuses a table whose replica identity, once the table is in a publication that publishes
// UPDATE or DELETE, would make the application's own UPDATE and DELETE on it fail, or whose
// column list does not cover that identity (the same failure).
void check_replica_identity(const table_catalog& t, const published_table& p,
                            const std::vector<std::string>& publish) {
    if (!publishes(publish, "update") && !publishes(publish, "delete")) return;
    const auto name = t.table.to_string();
    if (t.identity_columns.empty()) {
        const char* why = t.replica_identity == 'n'
                              ? "has REPLICA IDENTITY NOTHING"
                              : "has REPLICA IDENTITY DEFAULT but no primary key";
        throw error(
            errc::invalid_config,
            fmt::format("PostgreSQL table {} {}: once it is in a publication that publishes "
                        "UPDATE/DELETE, the application's own UPDATE and DELETE on it would "
                        "fail. Give it a primary key, or ALTER TABLE {} REPLICA IDENTITY "
                        "FULL (or USING INDEX a unique index), or publish only insert and "
                        "truncate",
                        name, why, qualified_name(t.table)));
    }
    if (p.columns.empty()) return;
    for (const auto& c : t.identity_columns) {
        if (std::find(p.columns.begin(), p.columns.end(), c) == p.columns.end()) {
            throw error(errc::invalid_config,
                        fmt::format("PostgreSQL table {}: the publication column list leaves out "
                                    "replica identity column \"{}\", which would make the "
                                    "application's own UPDATE and DELETE on the table fail: add it "
                                    "to the column list",
                                    name, c));
        }
    }
}

}  // namespace

awaitable<publication_info> read_publication(connection& conn, const std::string& name,
                                             int server_version) {
    publication_info info;
    info.name = name;
    const std::array<query_param, 1> params{name};
    const auto r = co_await conn.query(
        "SELECT p.puballtables, p.pubinsert, p.pubupdate, p.pubdelete, p.pubtruncate, "
        "p.pubviaroot, pg_catalog.obj_description(p.oid, 'pg_publication') "
        "FROM pg_catalog.pg_publication p WHERE p.pubname = $1",
        params);
    if (r.rows() == 0) co_return info;
    info.exists = true;
    info.all_tables = r.value(0, 0) == "t";
    constexpr std::array<std::string_view, 4> ops{"insert", "update", "delete", "truncate"};
    for (std::size_t i = 0; i < ops.size(); ++i)
        if (r.value(0, 1 + i) == "t") info.publish.emplace_back(ops[i]);
    info.via_root = r.value(0, 5) == "t";
    info.ours = r.value(0, 6).starts_with(managed_marker);

    if (server_version >= 150000) {
        const auto s = co_await conn.query(
            "SELECT EXISTS (SELECT 1 FROM pg_catalog.pg_publication_namespace pn JOIN "
            "pg_catalog.pg_publication p ON p.oid = pn.pnpubid WHERE p.pubname = $1)",
            params);
        info.schema_tables = s.value(0, 0) == "t";
    }
    const auto t = co_await conn.query(
        server_version >= 150000
            ? "SELECT schemaname, tablename, attnames::text, rowfilter, "
              "(SELECT count(*) FROM pg_catalog.pg_attribute a WHERE a.attrelid = "
              "format('%I.%I', schemaname, tablename)::regclass AND a.attnum > 0 AND NOT "
              "a.attisdropped) "
              "FROM pg_catalog.pg_publication_tables WHERE pubname = $1"
            : "SELECT schemaname, tablename, NULL, NULL, 0 FROM pg_catalog.pg_publication_tables "
              "WHERE pubname = $1",
        params);
    for (std::size_t i = 0; i < t.rows(); ++i) {
        published_table p;
        // PostgreSQL 15 lists every column (generated ones too) when there is no column list:
        // keep "every column" as an empty list.
        if (auto names = t.get(i, 2)) {
            auto columns = parse_name_array(*names);
            if (columns.size() != static_cast<std::size_t>(std::stoll(std::string(t.value(i, 4)))))
                p.columns = std::move(columns);
        }
        if (auto filter = t.get(i, 3)) p.row_filter = std::string(*filter);
        info.tables[table_identifier(std::string(t.value(i, 0)), std::string(t.value(i, 1)))] =
            std::move(p);
    }
    co_return info;
}

std::map<table_identifier, published_table> effective_tables(
    const publication_info& current, const source_options& options,
    const std::vector<table_identifier>& tables) {
    std::map<table_identifier, published_table> out;
    const bool managed = !current.exists || current.ours;
    for (const auto& t : tables) {
        published_table p;
        if (managed) {
            if (const auto it = options.publication.tables.find(t);
                it != options.publication.tables.end()) {
                p.columns = it->second.columns;
                p.row_filter = it->second.row_filter;
            }
        } else if (const auto it = current.tables.find(t); it != current.tables.end()) {
            p = it->second;
        }
        out[t] = std::move(p);
    }
    return out;
}

awaitable<publication_info> sync_publication(connection& conn, const source_options& options,
                                             const std::vector<table_catalog>& tables,
                                             publication_info current, int server_version) {
    const auto& name = current.name;
    const auto& config = options.publication;
    std::vector<table_identifier> ids;
    for (const auto& t : tables) ids.push_back(t.table);
    const auto wanted = effective_tables(current, options, ids);

    if (current.exists && !current.ours) {
        // Someone else's publication: used as it is.
        if (!config.tables.empty()) {
            throw error(
                errc::invalid_config,
                fmt::format("publication {} was not created by laredo, so laredo does not "
                            "change it: its row filters and column lists apply, and "
                            "publication.tables (configured for {}) cannot; remove them "
                            "or use a publication laredo manages",
                            quote_identifier(name), config.tables.begin()->first.to_string()));
        }
        if (current.all_tables) co_return current;
        for (const auto& t : tables) {
            if (!current.tables.contains(t.table)) {
                throw error(errc::invalid_config,
                            fmt::format("table {} is not in publication {}, which laredo did not "
                                        "create (laredo changes only publications it created): "
                                        "ALTER PUBLICATION {} ADD TABLE {}, or configure the name "
                                        "of a publication laredo may create",
                                        t.table.to_string(), quote_identifier(name),
                                        quote_identifier(name), qualified_name(t.table)));
            }
        }
        co_return current;
    }

    if (!current.exists && !config.create) {
        throw error(errc::invalid_config,
                    fmt::format("publication {} does not exist: create it (CREATE PUBLICATION {} "
                                "FOR TABLE ...) or set publication.create = true",
                                quote_identifier(name), quote_identifier(name)));
    }
    if (current.ours && (current.all_tables || current.schema_tables)) {
        throw error(errc::invalid_config,
                    fmt::format("publication {} publishes whole schemas or all tables: laredo "
                                "manages only FOR TABLE publications",
                                quote_identifier(name)));
    }
    const bool via_root = config.publish_via_partition_root.value_or(std::any_of(
        tables.begin(), tables.end(), [](const table_catalog& t) { return t.partitioned(); }));
    for (const auto& t : tables) {
        const auto& p = wanted.at(t.table);
        if ((!p.columns.empty() || !p.row_filter.empty()) && server_version < 150000) {
            throw error(errc::invalid_config,
                        fmt::format("publication.tables.{}: row filters and column lists need "
                                    "PostgreSQL 15 or later",
                                    t.table.to_string()));
        }
        check_replica_identity(t, p, config.publish);
    }

    std::string specs;
    for (const auto& t : tables)
        specs += (specs.empty() ? "" : ", ") + table_spec(t.table, wanted.at(t.table));
    const std::string with = fmt::format(
        "publish = {}{}", quote_literal(publish_list(config.publish)),
        server_version >= 130000
            ? std::string(", publish_via_partition_root = ") + (via_root ? "true" : "false")
            : std::string());
    const auto quoted = quote_identifier(name);

    if (!current.exists) {
        // One implicit transaction: the publication never exists without its marker.
        const auto comment =
            quote_literal(fmt::format("{} (slot {}); laredo keeps its tables in "
                                      "line with its configuration",
                                      managed_marker, options.slot_name));
        co_await conn.query(
            fmt::format("CREATE PUBLICATION {} FOR TABLE {} WITH ({}); "
                        "COMMENT ON PUBLICATION {} IS {}",
                        quoted, specs, with, quoted, comment));
        co_return co_await read_publication(conn, name, server_version);
    }

    // Ours: change it only where it differs (SET TABLE replaces tables, filters and column
    // lists at once).
    bool same_tables = current.tables.size() == tables.size();
    for (const auto& t : tables) {
        const auto it = current.tables.find(t.table);
        const auto& want = wanted.at(t.table);
        same_tables = same_tables && it != current.tables.end() &&
                      it->second.columns == want.columns &&
                      same_filter(want.row_filter, it->second.row_filter);
    }
    auto sorted = [](std::vector<std::string> v) {
        std::sort(v.begin(), v.end());
        return v;
    };
    const bool same_options =
        sorted(current.publish) == sorted(config.publish) && current.via_root == via_root;
    if (same_tables && same_options) co_return current;
    std::string sql = "BEGIN; ";
    if (!same_tables) sql += fmt::format("ALTER PUBLICATION {} SET TABLE {}; ", quoted, specs);
    if (!same_options) sql += fmt::format("ALTER PUBLICATION {} SET ({}); ", quoted, with);
    sql += "COMMIT";
    co_await conn.query(sql);
    co_return co_await read_publication(conn, name, server_version);
}

awaitable<bool> drop_publication(connection& conn, const std::string& name, int server_version) {
    const auto current = co_await read_publication(conn, name, server_version);
    if (!current.exists) co_return false;
    if (!current.ours) {
        throw error(errc::invalid_config,
                    fmt::format("publication {} was not created by laredo: laredo does not drop it",
                                quote_identifier(name)));
    }
    co_await conn.query("DROP PUBLICATION " + quote_identifier(name));
    co_return true;
}

}  // namespace laredo::sources::postgres::detail
