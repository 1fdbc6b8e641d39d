#include "laredo/server/api/context.hpp"
#include "laredo/server/api/views.hpp"

#include "laredo/json/values.hpp"

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>

#include <set>

namespace laredo::server::api {

namespace json = boost::json;
using boost::asio::awaitable;

namespace {

json::array pipelines_of(const context& ctx, const std::optional<table_identifier>& table = {}) {
    json::array out;
    for (const auto& p : ctx.rt->eng.pipelines())
        if (!table || p.table == *table) out.push_back(pipeline_json(ctx, p));
    return out;
}

awaitable<http::response> status(call& c) {
    json::array sources;
    for (const auto& id : c.ctx.rt->eng.source_ids()) sources.push_back(source_json(c.ctx, id));
    json::object body{{"state", engine_state(c.ctx)},
                      {"ready", c.ctx.app->engine_started && c.ctx.rt->eng.is_ready()},
                      {"draining", c.ctx.app->draining.load()},
                      {"started_at", format_time(c.ctx.app->started_at)},
                      {"version", LAREDO_SERVER_VERSION},
                      {"sources", std::move(sources)},
                      {"pipelines", pipelines_of(c.ctx)}};
    co_return http::response::json(200, body);
}

awaitable<http::response> sources(call& c) {
    json::array out;
    for (const auto& id : c.ctx.rt->eng.source_ids()) out.push_back(source_json(c.ctx, id));
    co_return http::response::json(200, json::object{{"sources", std::move(out)}});
}

awaitable<http::response> source(call& c) {
    const auto& id = c.args.at(0);
    if (!c.ctx.rt->eng.source(id))
        throw api_error(404, "unknown_source", "no source named '" + id + "'");
    co_return http::response::json(200, source_json(c.ctx, id));
}

awaitable<http::response> pipelines(call& c) {
    co_return http::response::json(200, json::object{{"pipelines", pipelines_of(c.ctx)}});
}

awaitable<http::response> pipeline(call& c) {
    const auto& id = c.args.at(0);
    for (const auto& p : c.ctx.rt->eng.pipelines())
        if (p.id == id) co_return http::response::json(200, pipeline_json(c.ctx, p));
    throw api_error(404, "unknown_pipeline", "no pipeline with id '" + id + "'");
}

awaitable<http::response> tables(call& c) {
    std::set<std::pair<std::string, table_identifier>> seen;
    json::array out;
    for (const auto& t : c.ctx.rt->targets) {
        if (!seen.insert({t.source_id, t.table}).second) continue;
        json::array targets;
        for (const auto* x : c.ctx.rt->find(t.table, t.source_id))
            targets.push_back(json::object{{"pipeline", x->pipeline_id},
                                           {"target_type", config::to_string(x->kind)}});
        out.push_back(json::object{{"table", t.table.to_string()},
                                   {"schema", t.table.schema},
                                   {"name", t.table.table},
                                   {"source", t.source_id},
                                   {"targets", std::move(targets)}});
    }
    co_return http::response::json(200, json::object{{"tables", std::move(out)}});
}

awaitable<http::response> table(call& c) {
    const auto t = table_arg(c.args.at(0));
    const auto source = source_for_table(c.ctx, t, c.req.param("source"));
    json::object body{{"table", t.to_string()}, {"source", source}};
    if (auto schema = c.ctx.rt->eng.table_schema(source, t))
        body["columns"] = laredo::json::encode_columns(schema->columns());
    else
        body["columns"] = nullptr;
    body["pipelines"] = pipelines_of(c.ctx, t);
    co_return http::response::json(200, body);
}

awaitable<http::response> openapi(call&) {
    co_return http::response::text(200, openapi_document(), "application/json");
}

}  // namespace

void add_status_routes(std::vector<route>& out) {
    out.push_back({"GET", "/v1/status", access::read, group::api, false, status});
    out.push_back({"GET", "/v1/sources", access::read, group::api, false, sources});
    out.push_back({"GET", "/v1/sources/{id}", access::read, group::api, false, source});
    out.push_back({"GET", "/v1/pipelines", access::read, group::api, false, pipelines});
    out.push_back({"GET", "/v1/pipelines/{id}", access::read, group::api, false, pipeline});
    out.push_back({"GET", "/v1/tables", access::read, group::api, false, tables});
    out.push_back({"GET", "/v1/tables/{table}", access::read, group::api, false, table});
    out.push_back({"GET", "/v1/openapi.json", access::read, group::api, false, openapi});
}

}  // namespace laredo::server::api
