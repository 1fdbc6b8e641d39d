#include "laredo/server/api/context.hpp"
#include "laredo/server/api/views.hpp"

#include "laredo/json/decode_text.hpp"
#include "laredo/json/values.hpp"
#include "laredo/server/common/describe.hpp"

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>

#include <algorithm>

namespace laredo::server::api {

namespace json = boost::json;
using boost::asio::awaitable;

namespace {

const wiring::table_target& pick_target(const call& c, const table_identifier& table) {
    const auto source = source_for_table(c.ctx, table, c.req.param("source"));
    const auto pipeline = c.req.param("pipeline");
    const wiring::table_target* best = nullptr;
    const wiring::table_target* unqueryable = nullptr;
    for (const auto* t : c.ctx.rt->find(table, source)) {
        if (pipeline && t->pipeline_id != *pipeline) continue;
        if (!t->queryable()) {
            unqueryable = t;
            continue;
        }
        if (!best || (!best->indexed && t->indexed)) best = t;
    }
    if (!best && unqueryable)
        throw api_error(400, "not_queryable",
                        "pipeline '" + unqueryable->pipeline_id + "' of " + table.to_string() +
                            " has a " + std::string(config::to_string(unqueryable->kind)) +
                            " target, which keeps no rows to query; queries need an "
                            "indexed-memory or compiled-memory target");
    if (!best)
        throw api_error(404, "unknown_pipeline",
                        "no pipeline '" + pipeline.value_or("") + "' serves " + table.to_string());
    return *best;
}

bool is_stale(const call& c, const std::string& pipeline_id) {
    for (const auto& p : c.ctx.rt->eng.pipelines())
        if (p.id == pipeline_id) return p.stale;
    return false;
}

schema_ptr schema_of(const wiring::table_target& t) {
    auto s = t.indexed ? t.indexed->schema() : t.compiled->schema();
    if (!s)
        throw api_error(503, "not_ready",
                        t.table.to_string() + " has not received its columns yet");
    return s;
}

// One URL segment as a value of `column`'s type.
value parse_value(const column_definition& column, const std::string& text) {
    try {
        return laredo::json::decode_text(text, laredo::json::natural_type(column));
    } catch (const std::exception&) {
        throw api_error(
            400, "bad_key",
            "'" + text + "' is not a valid " + column.type + " for column " + column.name);
    }
}

std::vector<value> parse_values(const row_schema& schema, const std::vector<std::string>& columns,
                                const std::vector<std::string>& texts, const std::string& what) {
    if (columns.size() != texts.size())
        throw api_error(
            400, "bad_key",
            what + " has " + std::to_string(columns.size()) + " column(s) (" +
                [&] {
                    std::string l;
                    for (const auto& c : columns) l += (l.empty() ? "" : ", ") + c;
                    return l;
                }() +
                "), got " + std::to_string(texts.size()) + " value(s)");
    std::vector<value> out;
    for (std::size_t i = 0; i < columns.size(); ++i) {
        const auto idx = schema.index_of(columns[i]);
        if (!idx) throw api_error(500, "internal", "the table has no column " + columns[i]);
        out.push_back(parse_value(schema.column(*idx), texts[i]));
    }
    return out;
}

std::vector<std::string> key_columns(const row_schema& schema) {
    std::vector<std::string> out;
    for (const auto i : schema.key_indexes()) out.push_back(schema.column(i).name);
    return out;
}

// Cursors are the last key of a page, as URL-safe base64 of its JSON array.
std::string encode_cursor(const std::vector<value>& key) {
    json::array a;
    // Tagged (natural type null), so each value reads back with its own type.
    for (const auto& v : key) a.push_back(laredo::json::encode_value(v, value::type::null));
    auto text = laredo::json::base64_encode(json::serialize(a));
    for (auto& ch : text) {
        if (ch == '+')
            ch = '-';
        else if (ch == '/')
            ch = '_';
    }
    while (!text.empty() && text.back() == '=') text.pop_back();
    return text;
}

std::vector<value> decode_cursor(std::string text) {
    try {
        for (auto& ch : text) {
            if (ch == '-')
                ch = '+';
            else if (ch == '_')
                ch = '/';
        }
        while (text.size() % 4 != 0) text += '=';
        const auto j = laredo::json::parse(laredo::json::base64_decode(text));
        std::vector<value> out;
        for (const auto& v : j.as_array())
            out.push_back(laredo::json::decode_value(v, value::type::null));
        return out;
    } catch (const std::exception&) {
        throw api_error(400, "bad_cursor", "the cursor is not one this server handed out");
    }
}

awaitable<http::response> list_rows(call& c) {
    const auto table = table_arg(c.args.at(0));
    const auto& t = pick_target(c, table);
    const auto limit = size_param(c.req, "limit", 100, c.ctx.config->api.max_page_size);
    std::optional<std::vector<value>> after;
    if (auto cursor = c.req.param("cursor"); cursor && !cursor->empty())
        after = decode_cursor(*cursor);
    const bool stale = is_stale(c, t.pipeline_id);

    std::string body = "{\"table\":" + json::serialize(json::value(table.to_string())) +
                       ",\"pipeline\":" + json::serialize(json::value(t.pipeline_id)) +
                       ",\"rows\":[";
    std::optional<std::vector<value>> last;
    bool more = false;
    if (t.indexed) {
        const auto schema = schema_of(t);
        std::vector<std::pair<std::vector<value>, row>> page;
        for (auto& r : t.indexed->rows()) {
            auto key = r.key();
            if (after && !(key > *after)) continue;
            page.emplace_back(std::move(key), std::move(r));
        }
        more = page.size() > limit;
        const auto end = page.begin() + static_cast<std::ptrdiff_t>(std::min(limit, page.size()));
        std::partial_sort(page.begin(), end, page.end(),
                          [](const auto& a, const auto& b) { return a.first < b.first; });
        for (auto it = page.begin(); it != end; ++it) {
            if (it != page.begin()) body += ',';
            body += json::serialize(laredo::json::encode_row(it->second));
            last = it->first;
        }
    } else {
        std::vector<wiring::compiled_target::object_ptr> page;
        for (auto& o : t.compiled->objects())
            if (!after || o->key > *after) page.push_back(std::move(o));
        more = page.size() > limit;
        const auto end = page.begin() + static_cast<std::ptrdiff_t>(std::min(limit, page.size()));
        std::partial_sort(page.begin(), end, page.end(),
                          [](const auto& a, const auto& b) { return a->key < b->key; });
        for (auto it = page.begin(); it != end; ++it) {
            if (it != page.begin()) body += ',';
            body += (*it)->json;
            last = (*it)->key;
        }
    }
    body += "],\"next_cursor\":";
    body += more && last ? json::serialize(json::value(encode_cursor(*last))) : std::string("null");
    body += ",\"stale\":";
    body += stale ? "true" : "false";
    body += "}";
    co_return http::response::text(200, std::move(body), "application/json");
}

awaitable<http::response> get_row(call& c) {
    const auto table = table_arg(c.args.at(0));
    const auto& t = pick_target(c, table);
    const auto schema = schema_of(t);
    const bool stale = is_stale(c, t.pipeline_id);
    std::string found;
    if (t.indexed) {
        const auto key =
            parse_values(*schema, key_columns(*schema), c.rest, "the key of " + table.to_string());
        if (auto r = t.indexed->get(key)) found = json::serialize(laredo::json::encode_row(*r));
    } else {
        // The compiled target's own key fields (the table's key unless configured).
        std::vector<std::string> fields;
        for (const auto& target : c.ctx.config->tables)
            if (target.table == table)
                for (const auto& x : target.targets)
                    if (x.kind == config::target_kind::compiled_memory && !x.key_fields.empty())
                        fields = x.key_fields;
        if (fields.empty()) fields = key_columns(*schema);
        const auto key = parse_values(*schema, fields, c.rest, "the key of " + table.to_string());
        if (auto o = t.compiled->get(key)) found = o->json;
    }
    if (found.empty()) {
        std::string shown;
        for (const auto& k : c.rest) shown += (shown.empty() ? "" : "/") + k;
        throw api_error(404, "not_found", "no row with key " + shown + " in " + table.to_string());
    }
    co_return http::response::text(
        200, "{\"row\":" + found + ",\"stale\":" + (stale ? "true" : "false") + "}",
        "application/json");
}

awaitable<http::response> count(call& c) {
    const auto table = table_arg(c.args.at(0));
    const auto& t = pick_target(c, table);
    const std::size_t n = t.indexed ? t.indexed->count() : t.compiled->count();
    co_return http::response::json(200, json::object{{"table", table.to_string()},
                                                     {"pipeline", t.pipeline_id},
                                                     {"count", n},
                                                     {"stale", is_stale(c, t.pipeline_id)}});
}

http::response rows_response(const std::vector<row>& rows) {
    json::array out;
    for (const auto& r : rows) out.push_back(laredo::json::encode_row(r));
    return http::response::json(200, json::object{{"rows", std::move(out)}});
}

const wiring::table_target& indexed_target_of(const call& c, const table_identifier& table) {
    const auto& t = pick_target(c, table);
    if (!t.indexed)
        throw api_error(400, "not_indexed",
                        "lookups need an indexed-memory target of " + table.to_string());
    return t;
}

awaitable<http::response> lookup(call& c) {
    const auto table = table_arg(c.args.at(0));
    const auto& t = indexed_target_of(c, table);
    if (t.lookup_fields.empty())
        throw api_error(400, "no_lookup_fields",
                        "the target of " + table.to_string() + " has no lookup_fields configured");
    const auto schema = schema_of(t);
    const auto values =
        parse_values(*schema, t.lookup_fields, c.rest, "the lookup of " + table.to_string());
    co_return rows_response(t.indexed->lookup_all(values));
}

awaitable<http::response> lookup_index(call& c) {
    const auto table = table_arg(c.args.at(0));
    const auto& t = indexed_target_of(c, table);
    const auto& name = c.args.at(1);
    const index_definition* def = nullptr;
    for (const auto& i : t.indexes)
        if (i.name == name) def = &i;
    if (!def)
        throw api_error(404, "unknown_index",
                        table.to_string() + " has no index named '" + name + "'");
    const auto schema = schema_of(t);
    const auto values = parse_values(*schema, def->fields, c.rest, "index " + name);
    co_return rows_response(t.indexed->lookup_index(name, values));
}

}  // namespace

void add_query_routes(std::vector<route>& out) {
    out.push_back({"GET", "/v1/tables/{table}/rows", access::read, group::api, false, list_rows});
    out.push_back(
        {"GET", "/v1/tables/{table}/rows/{key*}", access::read, group::api, false, get_row});
    out.push_back({"GET", "/v1/tables/{table}/count", access::read, group::api, false, count});
    out.push_back(
        {"GET", "/v1/tables/{table}/lookup/{values*}", access::read, group::api, false, lookup});
    out.push_back({"GET", "/v1/tables/{table}/indexes/{index}/{values*}", access::read, group::api,
                   false, lookup_index});
}

}  // namespace laredo::server::api
