#include "laredo/server/config/parse.hpp"
#include "laredo/server/config/units.hpp"

#include <boost/asio/ip/address.hpp>

#include <map>
#include <set>

namespace laredo::server::config::detail {

namespace {

std::optional<std::string> parse_address(node_reader& r, std::string_view key) {
    auto v = r.string(key);
    if (!v) return std::nullopt;
    boost::system::error_code ec;
    boost::asio::ip::make_address(*v, ec);
    if (ec) {
        r.problem(key, "'" + *v + "' is not an IP address (e.g. 127.0.0.1, 0.0.0.0, ::1)");
        return std::nullopt;
    }
    return v;
}

std::optional<std::uint16_t> parse_port(node_reader& r, std::string_view key) {
    if (auto v = r.integer(key, 0, 65535)) return static_cast<std::uint16_t>(*v);
    return std::nullopt;
}

std::string parse_path(node_reader& r, std::string_view key, std::string fallback) {
    auto v = r.string(key);
    if (!v) return fallback;
    if (v->empty() || v->front() != '/' || v->find_first_of("?# ") != std::string::npos) {
        r.problem(key, "'" + *v + "' is not a URL path (it must start with '/')");
        return fallback;
    }
    return *v;
}

}  // namespace

void parse_storage(node_reader& root, server_config& out) {
    auto snap = root.section("snapshot");
    auto& s = out.snapshot;
    const auto store = snap.choice("store", {"local"});
    s.enabled = snap.boolean("enabled").value_or(store.has_value());
    if (auto cfg = snap.table("store_config")) {
        if (auto v = cfg->string("path")) s.path = *v;
        cfg->finish();
    }
    snap.choice("serializer", {"jsonl"});
    if (auto v = snap.string("schedule")) {
        std::string text = *v;
        if (text.rfind("every ", 0) == 0) text.erase(0, 6);
        std::string why;
        if (auto d = parse_duration(text, &why))
            s.interval = *d;
        else
            snap.problem("schedule", "expected \"every <duration>\" or a duration: " + why);
    }
    if (auto v = snap.boolean("on_shutdown")) s.on_shutdown = *v;
    if (auto v = snap.boolean("restore")) s.restore = *v;
    snap.choice("on_restore_mismatch", {"warn"});
    if (auto retention = snap.table("retention")) {
        if (auto v = retention->integer("keep_count", 0, 1'000'000))
            s.keep_count = static_cast<std::size_t>(*v);
        retention->finish();
    }
    if (s.enabled && s.path.empty())
        snap.problem_here("snapshots need a directory: store = \"local\" and store_config.path");
    if (s.enabled && !store && !snap.raw("store"))
        snap.problem_here("snapshots need store = \"local\"");
    snap.finish();

    auto dl = root.section("dead_letters");
    auto& d = out.dead_letters;
    const auto dl_store = dl.choice("store", {"local"});
    d.enabled = dl.boolean("enabled").value_or(dl_store.has_value());
    if (auto v = dl.string("path")) d.path = *v;
    if (auto v = dl.size("max_size")) d.max_bytes = *v;
    if (auto v = dl.boolean("fsync")) d.fsync = *v;
    if (d.enabled && d.path.empty()) dl.problem_here("dead letters need `path`, a directory");
    dl.finish();
}

void parse_service(node_reader& root, server_config& out) {
    listener_config api;
    api.name = "api";
    api.api = true;
    api.port = 4001;
    auto a = root.section("api");
    if (auto v = parse_address(a, "address")) api.address = *v;
    if (auto v = parse_port(a, "port")) api.port = *v;
    if (auto tls = a.table("tls")) {
        const bool enabled = tls->boolean("enabled").value_or(true);
        tls_config t;
        if (auto v = tls->string("cert_path")) t.cert_path = *v;
        if (auto v = tls->string("key_path")) t.key_path = *v;
        if (enabled) {
            if (t.cert_path.empty() || t.key_path.empty())
                tls->problem_here("TLS needs both `cert_path` and `key_path`");
            api.tls = std::move(t);
        }
        tls->finish();
    }
    out.api.admin_tokens = a.secrets("admin_tokens", true);
    out.api.read_tokens = a.secrets("read_tokens", true);
    if (out.api.admin_tokens.empty())
        a.problem_here(
            "the API needs at least one admin token (admin_tokens, admin_tokens_env or "
            "admin_tokens_file): every /v1 call is authenticated");
    if (auto limits = a.table("limits")) {
        auto& l = out.api.limits;
        if (auto v = limits->size("max_header_size")) {
            if (*v < 1024 || *v > (1u << 20))
                limits->problem("max_header_size", "must be between 1KiB and 1MiB");
            else
                l.max_header_bytes = static_cast<std::uint32_t>(*v);
        }
        if (auto v = limits->size("max_body_size")) l.max_body_bytes = *v;
        if (auto v = limits->duration("request_timeout")) l.request_timeout = *v;
        if (auto v = limits->duration("idle_timeout")) l.idle_timeout = *v;
        if (auto v = limits->integer("max_connections", 1, 1'000'000))
            l.max_connections = static_cast<std::size_t>(*v);
        limits->finish();
    }
    if (auto v = a.integer("max_page_size", 1, 1'000'000))
        out.api.max_page_size = static_cast<std::size_t>(*v);
    if (auto v = a.size("websocket_queue_size")) out.api.websocket_queue_bytes = *v;
    a.finish();

    std::optional<listener_config> health;
    auto h = root.section("health");
    if (auto port = parse_port(h, "http_port")) {
        health = listener_config{};
        health->name = "health";
        health->port = *port;
        health->address = parse_address(h, "address").value_or("127.0.0.1");
    } else {
        parse_address(h, "address");
    }
    out.health.liveness_path = parse_path(h, "liveness_path", out.health.liveness_path);
    out.health.readiness_path = parse_path(h, "readiness_path", out.health.readiness_path);
    out.health.startup_path = parse_path(h, "startup_path", out.health.startup_path);
    h.finish();

    std::optional<listener_config> metrics;
    auto obs = root.section("observability");
    auto m = obs.section("metrics");
    m.choice("type", {"prometheus"});
    if (auto port = parse_port(m, "port")) {
        metrics = listener_config{};
        metrics->name = "metrics";
        metrics->port = *port;
        metrics->address = parse_address(m, "address").value_or("127.0.0.1");
    } else {
        parse_address(m, "address");
    }
    out.metrics.path = parse_path(m, "path", out.metrics.path);
    m.finish();
    auto lg = obs.section("logging");
    lg.choice("type", {"structured"});
    if (auto v = lg.choice("level", {"trace", "debug", "info", "warn", "error"}))
        out.logging.level = *v;
    if (auto v = lg.choice("format", {"auto", "json", "text"})) out.logging.format = *v;
    lg.finish();
    obs.finish();

    // Health on its own port when given one, else beside the API; metrics on their own
    // port, else with health. Listeners on the same address and port are one.
    (health ? *health : api).health = true;
    (metrics ? *metrics : health ? *health : api).metrics = true;
    out.listeners.push_back(api);
    for (auto* extra : {health ? &*health : nullptr, metrics ? &*metrics : nullptr}) {
        if (!extra) continue;
        bool merged = false;
        for (auto& l : out.listeners) {
            if (l.port != extra->port || extra->port == 0) continue;
            if (l.address != extra->address) continue;
            l.health |= extra->health;
            l.metrics |= extra->metrics;
            merged = true;
        }
        if (!merged) out.listeners.push_back(*extra);
    }

    auto srv = root.section("server");
    if (auto v = srv.integer("threads", 1, 256)) out.runtime.threads = static_cast<int>(*v);
    if (auto v = srv.duration("shutdown_timeout")) out.runtime.shutdown_timeout = *v;
    if (auto v = srv.duration("drain_grace")) out.runtime.drain_grace = *v;
    srv.finish();
}

void check_consistency(const server_config& config, std::vector<problem>& problems) {
    std::map<std::string, const source_config*> sources;
    for (const auto& s : config.sources) sources[s.id] = &s;
    std::vector<std::string> ids;
    for (const auto& s : config.sources) ids.push_back(s.id);
    for (std::size_t i = 0; i < config.tables.size(); ++i) {
        const auto& t = config.tables[i];
        const auto key = "tables[" + std::to_string(i) + "]";
        if (t.source.empty()) continue;
        const auto it = sources.find(t.source);
        if (it == sources.end()) {
            std::string message = "unknown source '" + t.source + "'";
            if (auto best = closest(t.source, ids); !best.empty())
                message += "; did you mean '" + best + "'?";
            problems.push_back({key + ".source", t.origin, message});
            continue;
        }
        if (it->second->type == "testsource") {
            bool found = false;
            for (const auto& tt : it->second->testsource.tables) found |= tt.table == t.table;
            if (!found)
                problems.push_back({key + ".table", t.origin,
                                    "test source '" + t.source + "' has no table " +
                                        t.table.to_string() + " (declare it in its `tables`)"});
        }
        for (std::size_t j = 0; j < t.targets.size(); ++j)
            if (t.targets[j].dead_letter_required && !config.dead_letters.enabled)
                problems.push_back(
                    {key + ".targets[" + std::to_string(j) + "].error_handling.dead_letter.enabled",
                     t.targets[j].origin,
                     "needs a dead-letter store: enable [dead_letters] with a path"});
    }
    // Every source's reconnect settings are the engine's one setting: they must agree.
    const reconnect_config* first = nullptr;
    for (const auto& s : config.sources) {
        if (!s.reconnect) continue;
        if (!first) {
            first = &*s.reconnect;
            continue;
        }
        if (s.reconnect->max_attempts != first->max_attempts ||
            s.reconnect->initial_backoff != first->initial_backoff ||
            s.reconnect->max_backoff != first->max_backoff)
            problems.push_back({"sources." + s.id + ".reconnect", s.origin,
                                "every source must use the same reconnect settings (the engine "
                                "retries all sources alike)"});
    }
    std::set<std::pair<std::string, std::uint16_t>> seen;
    for (const auto& l : config.listeners) {
        if (l.port == 0) continue;
        if (!seen.insert({l.address, l.port}).second)
            problems.push_back(
                {l.name, "", "listens on the same address and port as another listener"});
    }
}

}  // namespace laredo::server::config::detail
