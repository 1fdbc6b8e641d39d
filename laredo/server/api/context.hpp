#pragma once

#include "laredo/server/api/app_state.hpp"
#include "laredo/server/config/server_config.hpp"
#include "laredo/server/http/feed.hpp"
#include "laredo/server/http/message.hpp"
#include "laredo/server/status/tracker.hpp"
#include "laredo/server/wiring/wiring.hpp"

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace laredo::server::api {

// Everything route handlers reach.
struct context {
    wiring::runtime* rt = nullptr;
    const config::server_config* config = nullptr;
    app_state* app = nullptr;
    std::shared_ptr<status::tracker> tracker;
    // The Prometheus exposition (metrics/), rendered per scrape.
    std::function<std::string()> metrics_text;
    // WebSocket feeds (ws/): status events and table rows.
    std::function<std::shared_ptr<http::message_feed>(const http::request&)> watch_status;
    std::function<std::shared_ptr<http::message_feed>(const http::request&,
                                                      const wiring::table_target&)>
        watch_rows;
    boost::asio::any_io_executor executor;
    // Where blocking store I/O runs (snapshot and dead-letter files), off the I/O threads.
    boost::asio::any_io_executor blocking;
};

// Runs `fn` on the blocking executor and returns its result (exceptions propagate).
template <class F>
auto run_blocking(const context& ctx, F fn) -> boost::asio::awaitable<decltype(fn())>;

// One matched request.
struct call {
    context& ctx;
    const http::request& req;
    std::vector<std::string> args;  // the {placeholders} in order
    std::vector<std::string> rest;  // the segments a trailing {name*} took
};

// A failure a handler throws to answer with an error status.
struct api_error : std::exception {
    api_error(unsigned s, std::string c, std::string m)
        : status(s), code(std::move(c)), message(std::move(m)) {}
    const char* what() const noexcept override { return message.c_str(); }
    unsigned status;
    std::string code;
    std::string message;
};

enum class access { open, read, admin };
enum class group { api, health, metrics };

struct route {
    std::string method;
    // "/v1/tables/{table}/rows/{key*}": {x} takes one segment, a final {x*} one or more.
    std::string pattern;
    access need = access::read;
    group where = group::api;
    bool websocket = false;
    std::function<boost::asio::awaitable<http::response>(call&)> handler;
};

// Every route of the API (health and metrics paths come from the configuration).
std::vector<route> make_routes(const config::server_config& config);

// The route groups' handlers (routes_*.cpp).
void add_health_routes(std::vector<route>& out, const config::server_config& config);
void add_status_routes(std::vector<route>& out);
void add_admin_routes(std::vector<route>& out);
void add_query_routes(std::vector<route>& out);
void add_watch_routes(std::vector<route>& out);

template <class F>
auto run_blocking(const context& ctx, F fn) -> boost::asio::awaitable<decltype(fn())> {
    using result = decltype(fn());
    auto body = [fn = std::move(fn)]() mutable -> boost::asio::awaitable<result> {
        co_return fn();
    };
    co_return co_await boost::asio::co_spawn(ctx.blocking, std::move(body),
                                             boost::asio::use_awaitable);
}

// The OpenAPI 3 document of the /v1 routes.
const std::string& openapi_document();

}  // namespace laredo::server::api
