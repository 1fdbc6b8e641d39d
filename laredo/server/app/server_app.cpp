#include "laredo/server/app/server_app.hpp"

#include "laredo/server/api/service.hpp"
#include "laredo/server/api/views.hpp"
#include "laredo/server/common/describe.hpp"
#include "laredo/server/http/server.hpp"
#include "laredo/server/http/tls.hpp"
#include "laredo/server/logging/log_observer.hpp"
#include "laredo/server/metrics/collector.hpp"
#include "laredo/server/status/tracker.hpp"
#include "laredo/server/wiring/engine_ops.hpp"
#include "laredo/server/wiring/wiring.hpp"
#include "laredo/server/ws/row_watch.hpp"
#include "laredo/server/ws/status_hub.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>

#include <csignal>
#include <cstdlib>
#include <thread>

namespace laredo::server::app {

namespace asio = boost::asio;
using asio::awaitable;

std::vector<std::string> check(const config::server_config& config) {
    asio::io_context ioc;
    asio::thread_pool blocking(1);
    try {
        auto rt = wiring::build(config, ioc.get_executor(), blocking.get_executor(), nullptr);
        (void)rt;
    } catch (const config_error& e) {
        blocking.join();
        return e.problems();
    } catch (const std::exception& e) {
        blocking.join();
        return {describe(e)};
    }
    blocking.join();
    // Certificates are read when the listeners start; --check reads them now so that a bad
    // one is reported with the other problems instead of at startup.
    std::vector<std::string> problems;
    for (const auto& l : config.listeners) {
        if (!l.tls) continue;
        try {
            (void)http::make_tls_context(*l.tls);
        } catch (const std::exception& e) {
            problems.push_back(describe(e));
        }
    }
    return problems;
}

namespace {

// Counts the live WebSocket feeds (for metrics).
struct feed_registry {
    std::mutex mutex;
    std::vector<std::weak_ptr<http::message_feed>> feeds;
    void add(const std::shared_ptr<http::message_feed>& f) {
        std::lock_guard lock(mutex);
        std::erase_if(feeds, [](const auto& w) { return w.expired(); });
        feeds.push_back(f);
    }
    std::pair<std::size_t, std::uint64_t> totals() {
        std::lock_guard lock(mutex);
        std::size_t n = 0;
        std::uint64_t bytes = 0;
        for (const auto& w : feeds)
            if (auto f = w.lock(); f && !f->close_reason()) {
                ++n;
                bytes += f->queued_bytes();
            }
        return {n, bytes};
    }
};

std::string listener_url(const http::server& s) {
    const auto& l = s.listener();
    return std::string(l.tls ? "https://" : "http://") +
           (l.address.find(':') != std::string::npos ? "[" + l.address + "]" : l.address) + ":" +
           std::to_string(s.port());
}

}  // namespace

int run(const config::server_config& config, logging::logger& log) {
    asio::io_context ioc(config.runtime.threads);
    asio::thread_pool blocking(2);

    auto tracker = std::make_shared<status::tracker>();
    auto collector = std::make_shared<metrics::collector>();
    auto hub = std::make_shared<ws::status_hub>();
    std::map<std::string, std::string> pipeline_source;  // for position texts in logs
    wiring::runtime* rt_ptr = nullptr;
    auto position_text = [&pipeline_source, &rt_ptr](const std::string& id, const position& pos) {
        if (!rt_ptr) return std::string();
        auto source = id;
        if (auto it = pipeline_source.find(id); it != pipeline_source.end()) source = it->second;
        auto s = rt_ptr->sources.find(source);
        if (s == rt_ptr->sources.end()) return std::string();
        try {
            return s->second->position_to_string(pos);
        } catch (const std::exception&) {
            return std::string();
        }
    };
    auto logs = std::make_shared<logging::log_observer>(log, position_text);
    auto observer = make_composite_observer({tracker, collector, hub, logs});

    std::optional<wiring::runtime> rt;
    try {
        rt.emplace(wiring::build(config, ioc.get_executor(), blocking.get_executor(), observer));
    } catch (const config_error& e) {
        for (const auto& p : e.problems()) log.error("configuration problem", {{"problem", p}});
        blocking.join();
        return 1;
    }
    rt_ptr = &*rt;
    std::map<std::string, ws::status_hub::pipeline_ref> refs;
    for (const auto& t : rt->targets) {
        refs[t.pipeline_id] = {t.source_id, t.table.to_string()};
        pipeline_source[t.pipeline_id] = t.source_id;
    }
    hub->set_pipelines(std::move(refs));

    api::app_state state;
    auto feeds = std::make_shared<feed_registry>();
    api::context ctx;
    ctx.rt = &*rt;
    ctx.config = &config;
    ctx.app = &state;
    ctx.tracker = tracker;
    ctx.executor = ioc.get_executor();
    ctx.blocking = blocking.get_executor();
    std::vector<std::unique_ptr<http::server>> servers;
    ctx.metrics_text = [&] {
        metrics::server_gauges g;
        g.ready = state.engine_started && rt->eng.is_ready() && !state.draining;
        g.draining = state.draining;
        std::tie(g.websocket_clients, g.websocket_queue_bytes) = feeds->totals();
        for (const auto& s : servers) g.http_connections += s->connections();
        return collector->render(*rt, g);
    };
    const auto queue_limit = config.api.websocket_queue_bytes;
    ctx.watch_status = [&, feeds, collector, hub, queue_limit](const http::request& req) {
        auto feed = std::make_shared<http::message_feed>(ioc.get_executor(), queue_limit);
        feed->on_overflow([collector] { collector->count_slow_client(); });
        ws::status_filter filter{req.param("source"), req.param("pipeline"), req.param("table")};
        feed->push(boost::json::serialize(
            boost::json::object{{"type", "subscribed"}, {"state", api::engine_state(ctx)}}));
        hub->subscribe(feed, std::move(filter));
        feeds->add(feed);
        return feed;
    };
    ctx.watch_rows = [&, feeds, collector, queue_limit](const http::request& req,
                                                        const wiring::table_target& target) {
        ws::row_filter_spec filter;
        std::string why;
        if (!ws::parse_row_filter(req.params("eq"), req.params("prefix"), filter, &why))
            throw api::api_error(400, "bad_filter", why);
        const auto replay = req.param("replay");
        auto feed =
            ws::watch_rows(ioc.get_executor(), queue_limit, target,
                           replay && (*replay == "true" || *replay == "1"), std::move(filter));
        feed->on_overflow([collector] { collector->count_slow_client(); });
        feeds->add(feed);
        return feed;
    };

    // Requests counted for metrics: wrap the service.
    struct counting_handler final : http::handler {
        std::shared_ptr<api::service> inner;
        std::shared_ptr<metrics::collector> metrics;
        awaitable<http::response> handle(http::request req,
                                         const config::listener_config& l) override {
            auto res = co_await inner->handle(std::move(req), l);
            metrics->count_request(res.status);
            co_return res;
        }
        upgrade websocket(const http::request& req, const config::listener_config& l) override {
            auto up = inner->websocket(req, l);
            metrics->count_request(up.feed ? 101 : up.refusal.status);
            return up;
        }
    };
    auto handler = std::make_shared<counting_handler>();
    handler->inner = std::make_shared<api::service>(ctx);
    handler->metrics = collector;

    try {
        for (const auto& l : config.listeners) {
            auto s =
                std::make_unique<http::server>(ioc.get_executor(), l, config.api.limits, handler);
            s->start();
            log.info("listening", {{"listener", l.name},
                                   {"address", listener_url(*s)},
                                   {"port", s->port()},
                                   {"api", l.api},
                                   {"health", l.health},
                                   {"metrics", l.metrics}});
            servers.push_back(std::move(s));
        }
    } catch (const std::exception& e) {
        log.error("cannot start", {{"error", describe(e)}});
        for (auto& s : servers) s->stop();
        blocking.join();
        return 1;
    }

    // Shutdown: the first SIGTERM/SIGINT (or POST /v1/drain) wakes `shutdown`; a second
    // signal aborts.
    auto control = asio::make_strand(ioc);
    asio::steady_timer shutdown(control, asio::steady_timer::time_point::max());
    bool shutdown_requested = false;
    auto request_shutdown = [&] {
        auto wake = [&] {
            if (shutdown_requested) return;
            shutdown_requested = true;
            shutdown.cancel();
        };
        asio::post(control, wake);
    };
    state.request_shutdown = request_shutdown;
    asio::signal_set signals(control, SIGINT, SIGTERM);
    int signal_count = 0;
    std::function<void(boost::system::error_code, int)> on_signal;
    on_signal = [&](boost::system::error_code ec, int sig) {
        if (ec) return;
        if (++signal_count > 1) {
            log.error("second signal: aborting", {{"signal", sig}});
            std::_Exit(1);
        }
        log.info("signal received: draining", {{"signal", sig}});
        request_shutdown();
        signals.async_wait(on_signal);
    };
    signals.async_wait(on_signal);

    int exit_code = 0;
    auto main = [&]() -> awaitable<void> {
        try {
            co_await wiring::start(rt->eng);
            state.engine_started = true;
            log.info("engine started",
                     {{"sources", rt->sources.size()}, {"pipelines", rt->targets.size()}});
            rt->eng.on_ready([&log] { log.info("ready: every pipeline is streaming"); });
        } catch (const std::exception& e) {
            log.error("engine failed to start", {{"error", describe(e)}});
            exit_code = 1;
            shutdown_requested = true;
        }
        if (!shutdown_requested) co_await shutdown.async_wait(asio::as_tuple(asio::use_awaitable));
        state.draining = true;
        state.shutting_down = true;
        hub->server_event("draining");
        // Replication clients are told to go (GoAway) and resume elsewhere or after the
        // restart by position; their streams end with the grace, or when the engine stops.
        for (const auto& t : rt->targets)
            if (t.fanout) t.fanout->drain("server stopping", config.runtime.drain_grace);
        if (config.runtime.drain_grace.count() > 0) {
            log.info("draining: readiness reports 503",
                     {{"grace_seconds",
                       static_cast<double>(config.runtime.drain_grace.count()) / 1000.0}});
            asio::steady_timer grace(control, config.runtime.drain_grace);
            co_await grace.async_wait(asio::as_tuple(asio::use_awaitable));
        }
        if (state.engine_started) {
            try {
                co_await wiring::stop(rt->eng);
                log.info("engine stopped");
            } catch (const std::exception& e) {
                log.error("engine stop failed", {{"error", describe(e)}});
                exit_code = 1;
            }
        }
        hub->server_event("stopped");
        for (auto& s : servers) s->stop();
        signals.cancel();
        log.info("laredo-server stopped", {{"exit_code", exit_code}});
        // Anything still queued (connections closing) is abandoned: the process ends.
        ioc.stop();
    };
    asio::co_spawn(control, main(), asio::detached);

    std::vector<std::thread> threads;
    for (int i = 1; i < config.runtime.threads; ++i) threads.emplace_back([&ioc] { ioc.run(); });
    ioc.run();
    for (auto& t : threads) t.join();
    blocking.join();
    return exit_code;
}

}  // namespace laredo::server::app
