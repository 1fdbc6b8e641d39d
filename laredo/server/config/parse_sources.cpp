#include "laredo/error.hpp"
#include "laredo/json/values.hpp"
#include "laredo/server/common/describe.hpp"
#include "laredo/server/config/parse.hpp"
#include "laredo/server/config/units.hpp"

#include <boost/json/value.hpp>

#include <cmath>

namespace laredo::server::config::detail {

namespace {

namespace pg = sources::postgres;

std::optional<table_identifier> parse_table_name(node_reader& r, std::string_view key,
                                                 const std::string& text) {
    try {
        return table_identifier::parse(text);
    } catch (const std::exception& e) {
        r.problem(key, describe(e));
        return std::nullopt;
    }
}

std::optional<reconnect_config> parse_reconnect(node_reader& src) {
    auto block = src.table("reconnect");
    if (!block) return std::nullopt;
    reconnect_config out;
    if (auto v = block->integer("max_attempts", 0, 1'000'000))
        out.max_attempts = static_cast<int>(*v);
    if (auto v = block->duration("initial_backoff")) out.initial_backoff = *v;
    if (auto v = block->duration("max_backoff")) out.max_backoff = *v;
    if (auto v = block->number("backoff_multiplier"); v && std::abs(*v - 2.0) > 1e-9)
        block->problem("backoff_multiplier",
                       "only 2.0 is supported (the engine doubles the wait after each attempt)");
    block->finish();
    return out;
}

void parse_publication(node_reader& src, pg::source_options& o) {
    auto pub = src.table("publication");
    if (!pub) return;
    if (auto v = pub->string("name")) o.publication.name = *v;
    if (auto v = pub->boolean("create")) o.publication.create = *v;
    if (auto v = pub->strings("publish")) o.publication.publish = *v;
    if (auto v = pub->boolean("publish_via_partition_root"))
        o.publication.publish_via_partition_root = *v;
    if (auto tables = pub->table("tables")) {
        for (auto& [name, t] : tables->entries()) {
            auto id = parse_table_name(*tables, name, name);
            pg::table_publication_options topts;
            if (auto v = t.string("where")) topts.row_filter = *v;
            if (auto v = t.strings("columns")) topts.columns = *v;
            t.finish();
            if (id) o.publication.tables[*id] = std::move(topts);
        }
        tables->finish();
    }
    pub->finish();
}

void parse_postgres(node_reader& src, source_config& out) {
    auto& o = out.postgres;
    const auto conn = src.secrets("connection", false);
    if (!conn.empty()) {
        try {
            o.connection = pg::connection_params::from_conninfo(conn.front().value);
        } catch (const std::exception& e) {
            src.problem("connection", describe(e));
        }
    } else {
        src.problem_here("a postgres source needs `connection` (a libpq connection string)");
    }
    if (const auto pw = src.secrets("password", false); !pw.empty())
        o.connection.password = pw.front().value;
    if (o.connection.application_name.empty()) o.connection.application_name = "laredo:" + out.id;
    if (auto v = src.choice("slot_mode", {"ephemeral", "stateful"}))
        o.mode = pg::parse_slot_mode(*v);
    if (auto v = src.string("slot_name")) o.slot_name = *v;
    if (auto v = src.boolean("always_baseline")) o.always_baseline = *v;
    parse_publication(src, o);
    if (auto keys = src.table("key_columns")) {
        for (const auto& name : keys->keys()) {
            auto columns = keys->strings(name);
            auto id = parse_table_name(*keys, name, name);
            if (columns && id) o.key_columns[*id] = std::move(*columns);
        }
        keys->finish();
    }
    if (auto v = src.duration("status_interval")) o.status_interval = *v;
    if (auto v = src.duration("health_interval")) o.health_interval = *v;
    if (auto v = src.duration("slot_creation_timeout")) o.slot_creation_timeout = *v;
    if (auto v = src.integer("baseline_batch_rows", 1, 1'000'000))
        o.baseline_batch_rows = static_cast<std::size_t>(*v);
    if (auto v = src.integer("change_batch_size", 1, 1'000'000))
        o.change_batch_size = static_cast<std::size_t>(*v);
    try {
        o.validate();
    } catch (const std::exception& e) {
        src.problem_here(describe(e));
    }
}

std::vector<column_definition> parse_columns(node_reader& t) {
    std::vector<column_definition> columns;
    int key_ordinal = 0;
    for (auto& c : t.array_of_tables("columns")) {
        column_definition col;
        if (auto v = c.string("name"))
            col.name = *v;
        else
            c.problem_here("a column needs a `name`");
        col.type = c.string("type").value_or("text");
        if (c.boolean("key").value_or(false)) {
            col.primary_key = true;
            col.primary_key_ordinal = ++key_ordinal;
            col.nullable = false;
        }
        col.ordinal_position = static_cast<int>(columns.size()) + 1;
        c.finish();
        columns.push_back(std::move(col));
    }
    if (columns.empty()) t.problem_here("a test source table needs `columns`");
    return columns;
}

void parse_testsource(node_reader& src, source_config& out) {
    auto& o = out.testsource;
    if (auto v = src.choice("positions", {"sequence", "pair"})) o.pair_positions = *v == "pair";
    if (auto v = src.boolean("supports_resume")) o.supports_resume = *v;
    if (auto v = src.integer("batch_size", 1, 1'000'000))
        o.batch_size = static_cast<std::size_t>(*v);
    for (auto& t : src.array_of_tables("tables")) {
        testsource_table table;
        const auto schema = t.string("schema").value_or("public");
        if (auto name = t.string("table"))
            table.table = table_identifier(schema, *name);
        else
            t.problem_here("a test source table needs `table`");
        table.columns = parse_columns(t);
        const auto* rows = t.raw("rows");
        if (rows && !rows->is_array_of_tables() && !(rows->is_array() && rows->as_array()->empty()))
            t.problem("rows", "expected an array of tables ({ column = value, ... })");
        for (auto& r : t.array_of_tables("rows")) {
            std::vector<value> values(table.columns.size());
            for (std::size_t i = 0; i < table.columns.size(); ++i) {
                const auto* node = r.raw(table.columns[i].name);
                if (!node) continue;
                auto v = scalar_value(*node);
                if (!v) {
                    r.problem(table.columns[i].name, "expected a scalar value");
                    continue;
                }
                // Text in the column's JSON form reads as its natural type ("2024-01-02" for
                // a date column); other scalars are taken as they are.
                const auto natural = json::natural_type(table.columns[i]);
                if (v->get_type() == value::type::text && natural != value::type::text) {
                    try {
                        v = json::decode_value(boost::json::string(v->get<std::string>()), natural);
                    } catch (const std::exception& e) {
                        r.problem(table.columns[i].name, describe(e));
                    }
                }
                values[i] = std::move(*v);
            }
            r.finish();
            table.rows.push_back(std::move(values));
        }
        t.finish();
        o.tables.push_back(std::move(table));
    }
    if (o.tables.empty()) src.problem_here("a testsource needs at least one entry in `tables`");
}

}  // namespace

void parse_sources(node_reader& root, server_config& out) {
    auto sources = root.table("sources");
    if (!sources) {
        root.problem_here("no [sources]: at least one source is needed");
        return;
    }
    for (auto& [id, src] : sources->entries()) {
        source_config s;
        s.id = id;
        s.origin = src.origin();
        auto type = src.string("type");
        if (!type) {
            src.problem_here("a source needs a `type` (postgres or testsource)");
            src.finish();
            continue;
        }
        if (*type == "postgresql" || *type == "pg" || *type == "postgres") {
            s.type = "postgres";
            parse_postgres(src, s);
        } else if (*type == "testsource") {
            s.type = "testsource";
            parse_testsource(src, s);
        } else {
            std::string message =
                "source type '" + *type +
                "' is not available in this build (available: postgres, testsource)";
            if (auto best = closest(*type, {"postgres", "postgresql", "testsource"}); !best.empty())
                message += "; did you mean '" + best + "'?";
            src.problem("type", message);
        }
        s.reconnect = parse_reconnect(src);
        src.finish();
        out.sources.push_back(std::move(s));
    }
    if (out.sources.empty()) sources->problem_here("at least one source is needed");
    sources->finish();
}

}  // namespace laredo::server::config::detail
