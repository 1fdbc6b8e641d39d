#include "laredo/server/api/context.hpp"
#include "laredo/server/api/views.hpp"

#include "laredo/server/common/describe.hpp"
#include "laredo/server/wiring/engine_ops.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json/array.hpp>
#include <boost/json/object.hpp>

namespace laredo::server::api {

namespace json = boost::json;
namespace asio = boost::asio;
using asio::awaitable;

namespace {

std::string known_source(const call& c) {
    const auto& id = c.args.at(0);
    if (!c.ctx.rt->eng.source(id))
        throw api_error(404, "unknown_source", "no source named '" + id + "'");
    return id;
}

bool bool_field(const json::object& body, std::string_view name, bool fallback) {
    const auto* v = body.if_contains(name);
    if (!v) return fallback;
    if (!v->is_bool())
        throw api_error(400, "bad_request", std::string(name) + " must be true or false");
    return v->as_bool();
}

awaitable<http::response> pause(call& c) {
    const auto id = known_source(c);
    co_await wiring::pause(c.ctx.rt->eng, id);
    co_return http::response::json(200, json::object{{"source", id}, {"state", "PAUSED"}});
}

awaitable<http::response> resume(call& c) {
    const auto id = known_source(c);
    co_await wiring::resume(c.ctx.rt->eng, id);
    co_return http::response::json(200, json::object{{"source", id}, {"state", "STREAMING"}});
}

awaitable<http::response> reset(call& c) {
    const auto id = known_source(c);
    const auto body = body_object(c.req);
    if (!bool_field(body, "confirm", false))
        throw api_error(400, "confirmation_required",
                        "resetting a source drops its replication slot and forces a full "
                        "baseline: send {\"confirm\": true}");
    const bool drop_publication = bool_field(body, "drop_publication", false);
    auto source = c.ctx.rt->sources.at(id);
    auto* r = dynamic_cast<resettable*>(source.get());
    if (!r) throw api_error(409, "unsupported", "source '" + id + "' cannot be reset");
    co_await asio::co_spawn(source->get_executor(), r->reset_source(drop_publication),
                            asio::use_awaitable);
    co_return http::response::json(
        200, json::object{{"source", id}, {"reset", true}, {"drop_publication", drop_publication}});
}

awaitable<http::response> reload(call& c) {
    const auto table = table_arg(c.args.at(0));
    const auto body = body_object(c.req);
    std::optional<std::string> source = c.req.param("source");
    if (const auto* s = body.if_contains("source")) {
        if (!s->is_string()) throw api_error(400, "bad_request", "source must be a string");
        source = std::string(s->as_string());
    }
    const auto id = source_for_table(c.ctx, table, source);
    co_await wiring::reload(c.ctx.rt->eng, id, table);
    co_return http::response::json(
        200, json::object{{"table", table.to_string()}, {"source", id}, {"reloaded", true}});
}

void need_snapshots(const call& c) {
    if (!c.ctx.rt->snapshots)
        throw api_error(409, "not_configured",
                        "snapshots are not configured (set [snapshot] with a local store)");
}

void need_dead_letters(const call& c) {
    if (!c.ctx.rt->dead_letters)
        throw api_error(409, "not_configured",
                        "dead letters are not configured (set [dead_letters] with a path)");
}

awaitable<http::response> list_snapshots(call& c) {
    need_snapshots(c);
    auto eng = c.ctx.rt->eng;
    auto fn = [eng] { return eng.list_snapshots(); };
    auto list = co_await run_blocking(c.ctx, std::move(fn));
    json::array out;
    for (const auto& d : list) out.push_back(snapshot_json(d));
    co_return http::response::json(200, json::object{{"snapshots", std::move(out)}});
}

awaitable<http::response> create_snapshot(call& c) {
    need_snapshots(c);
    const auto body = body_object(c.req);
    std::map<std::string, std::string> labels;
    if (const auto* l = body.if_contains("labels")) {
        if (!l->is_object())
            throw api_error(400, "bad_request", "labels must be an object of strings");
        for (const auto& [k, v] : l->as_object()) {
            if (!v.is_string())
                throw api_error(400, "bad_request",
                                "label " + std::string(k) + " must be a string");
            labels[std::string(k)] = std::string(v.as_string());
        }
    }
    labels.emplace("trigger", "api");
    auto d = co_await wiring::create_snapshot(c.ctx.rt->eng, std::move(labels));
    co_return http::response::json(201, snapshot_json(d));
}

// The store says "unknown id" with errc::invalid_argument: a 404 here.
template <class F>
auto with_snapshot(F fn) {
    try {
        return fn();
    } catch (const error& e) {
        if (e.code() == errc::invalid_argument)
            throw api_error(404, "unknown_snapshot", describe(e));
        throw;
    }
}

awaitable<http::response> describe_snapshot(call& c) {
    need_snapshots(c);
    auto eng = c.ctx.rt->eng;
    const auto id = c.args.at(0);
    auto fn = [eng, id] { return with_snapshot([&] { return eng.describe_snapshot(id); }); };
    auto d = co_await run_blocking(c.ctx, std::move(fn));
    co_return http::response::json(200, snapshot_json(d));
}

awaitable<http::response> delete_snapshot(call& c) {
    need_snapshots(c);
    auto eng = c.ctx.rt->eng;
    const auto id = c.args.at(0);
    auto fn = [eng, id]() mutable {
        with_snapshot([&] { eng.delete_snapshot(id); });
        return 0;
    };
    co_await run_blocking(c.ctx, std::move(fn));
    co_return http::response::json(200, json::object{{"deleted", id}});
}

void known_pipeline(const call& c, const std::string& id) {
    for (const auto& p : c.ctx.rt->eng.pipelines())
        if (p.id == id) return;
    throw api_error(404, "unknown_pipeline", "no pipeline with id '" + id + "'");
}

awaitable<http::response> dead_letter_pipelines(call& c) {
    need_dead_letters(c);
    auto store = c.ctx.rt->dead_letters;
    auto fn = [store] {
        std::vector<std::pair<std::string, std::size_t>> out;
        for (const auto& p : store->pipelines()) out.emplace_back(p, store->count(p));
        return out;
    };
    auto counts = co_await run_blocking(c.ctx, std::move(fn));
    json::array out;
    for (const auto& [p, n] : counts) out.push_back(json::object{{"pipeline", p}, {"count", n}});
    co_return http::response::json(
        200, json::object{{"pipelines", std::move(out)}, {"bytes_used", store->bytes_used()}});
}

awaitable<http::response> list_dead_letters(call& c) {
    need_dead_letters(c);
    const auto id = c.args.at(0);
    known_pipeline(c, id);
    const auto limit = size_param(c.req, "limit", 100, c.ctx.config->api.max_page_size);
    auto eng = c.ctx.rt->eng;
    auto fn = [eng, id, limit] { return eng.dead_letters(id, limit); };
    auto letters = co_await run_blocking(c.ctx, std::move(fn));
    json::array out;
    for (const auto& d : letters) out.push_back(dead_letter_json(d));
    co_return http::response::json(
        200, json::object{{"pipeline", id}, {"dead_letters", std::move(out)}});
}

awaitable<http::response> replay_dead_letters(call& c) {
    need_dead_letters(c);
    const auto id = c.args.at(0);
    known_pipeline(c, id);
    const auto n = co_await wiring::replay_dead_letters(c.ctx.rt->eng, id);
    co_return http::response::json(200, json::object{{"pipeline", id}, {"replayed", n}});
}

awaitable<http::response> purge_dead_letters(call& c) {
    need_dead_letters(c);
    const auto id = c.args.at(0);
    known_pipeline(c, id);
    auto eng = c.ctx.rt->eng;
    auto fn = [eng, id]() mutable { return eng.purge_dead_letters(id); };
    const auto n = co_await run_blocking(c.ctx, std::move(fn));
    co_return http::response::json(200, json::object{{"pipeline", id}, {"purged", n}});
}

awaitable<http::response> drain(call& c) {
    const auto body = body_object(c.req);
    const bool shutdown = bool_field(body, "shutdown", true);
    c.ctx.app->draining = true;
    // Replication clients are sent GoAway (they move to another server by position) and new
    // ones are refused, with or without the shutdown: the server is leaving service.
    for (const auto& t : c.ctx.rt->targets)
        if (t.fanout) t.fanout->drain("server draining", c.ctx.config->runtime.drain_grace);
    if (shutdown && c.ctx.app->request_shutdown) c.ctx.app->request_shutdown();
    co_return http::response::json(202, json::object{{"draining", true}, {"shutdown", shutdown}});
}

awaitable<http::response> undrain(call& c) {
    if (c.ctx.app->shutting_down)
        throw api_error(409, "shutting_down",
                        "the server is shutting down; a drain that stops cannot be undone");
    c.ctx.app->draining = false;
    for (const auto& t : c.ctx.rt->targets)
        if (t.fanout) t.fanout->undrain();
    co_return http::response::json(200, json::object{{"draining", false}});
}

}  // namespace

void add_admin_routes(std::vector<route>& out) {
    out.push_back({"POST", "/v1/sources/{id}/pause", access::admin, group::api, false, pause});
    out.push_back({"POST", "/v1/sources/{id}/resume", access::admin, group::api, false, resume});
    out.push_back({"POST", "/v1/sources/{id}/reset", access::admin, group::api, false, reset});
    out.push_back({"POST", "/v1/tables/{table}/reload", access::admin, group::api, false, reload});
    out.push_back({"GET", "/v1/snapshots", access::read, group::api, false, list_snapshots});
    out.push_back({"POST", "/v1/snapshots", access::admin, group::api, false, create_snapshot});
    out.push_back(
        {"GET", "/v1/snapshots/{id}", access::read, group::api, false, describe_snapshot});
    out.push_back(
        {"DELETE", "/v1/snapshots/{id}", access::admin, group::api, false, delete_snapshot});
    out.push_back(
        {"GET", "/v1/dead-letters", access::read, group::api, false, dead_letter_pipelines});
    out.push_back(
        {"GET", "/v1/dead-letters/{pipeline}", access::read, group::api, false, list_dead_letters});
    out.push_back({"POST", "/v1/dead-letters/{pipeline}/replay", access::admin, group::api, false,
                   replay_dead_letters});
    out.push_back({"DELETE", "/v1/dead-letters/{pipeline}", access::admin, group::api, false,
                   purge_dead_letters});
    out.push_back({"POST", "/v1/drain", access::admin, group::api, false, drain});
    out.push_back({"DELETE", "/v1/drain", access::admin, group::api, false, undrain});
}

}  // namespace laredo::server::api
