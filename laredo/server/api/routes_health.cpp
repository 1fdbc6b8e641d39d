#include "laredo/server/api/context.hpp"
#include "laredo/server/api/views.hpp"

#include <boost/json/object.hpp>

namespace laredo::server::api {

namespace json = boost::json;
using boost::asio::awaitable;

namespace {

awaitable<http::response> live(call&) {
    co_return http::response::json(200, json::object{{"status", "ok"}});
}

awaitable<http::response> ready(call& c) {
    auto& eng = c.ctx.rt->eng;
    const bool draining = c.ctx.app->draining;
    json::object body;
    if (const auto source = c.req.param("source")) {
        if (!eng.source(*source))
            throw api_error(404, "unknown_source", "no source named '" + *source + "'");
        const bool ok = c.ctx.app->engine_started && eng.is_source_ready(*source) && !draining;
        body = json::object{{"ready", ok}, {"source", *source}, {"draining", draining}};
        co_return http::response::json(ok ? 200 : 503, body);
    }
    const bool ok = c.ctx.app->engine_started && eng.is_ready() && !draining;
    json::object sources;
    for (const auto& id : eng.source_ids()) sources[id] = eng.is_source_ready(id);
    json::object pipelines;
    for (const auto& p : eng.pipelines()) pipelines[p.id] = std::string(to_string(p.state));
    body = json::object{{"ready", ok},
                        {"draining", draining},
                        {"sources", std::move(sources)},
                        {"pipelines", std::move(pipelines)}};
    co_return http::response::json(ok ? 200 : 503, body);
}

awaitable<http::response> startup(call& c) {
    if (c.ctx.app->engine_started)
        co_return http::response::json(200, json::object{{"status", "started"}});
    co_return http::response::json(503, json::object{{"status", "starting"}});
}

awaitable<http::response> metrics(call& c) {
    co_return http::response::text(200, c.ctx.metrics_text(),
                                   "text/plain; version=0.0.4; charset=utf-8");
}

}  // namespace

void add_health_routes(std::vector<route>& out, const config::server_config& config) {
    out.push_back({"GET", config.health.liveness_path, access::open, group::health, false, live});
    out.push_back({"GET", config.health.readiness_path, access::open, group::health, false, ready});
    out.push_back({"GET", config.health.startup_path, access::open, group::health, false, startup});
    out.push_back({"GET", config.metrics.path, access::open, group::metrics, false, metrics});
}

std::vector<route> make_routes(const config::server_config& config) {
    std::vector<route> out;
    add_health_routes(out, config);
    add_status_routes(out);
    add_admin_routes(out);
    add_query_routes(out);
    add_watch_routes(out);
    return out;
}

}  // namespace laredo::server::api
