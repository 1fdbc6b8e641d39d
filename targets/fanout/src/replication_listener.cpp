#include "laredo/targets/fanout/replication_listener.hpp"

#include "laredo/targets/fanout/websocket.hpp"

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket/rfc6455.hpp>

#include <fmt/format.h>

#include <atomic>
#include <list>
#include <map>
#include <mutex>

namespace laredo::targets::fanout {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using asio::awaitable;
using asio::use_awaitable;
using asio::ip::tcp;

struct replication_listener::state : std::enable_shared_from_this<state> {
    state(asio::any_io_executor ex, replication_listener_options o)
        : executor(ex), strand(asio::make_strand(ex)), options(std::move(o)), acceptor(strand) {}

    asio::any_io_executor executor;
    asio::strand<asio::any_io_executor> strand;  // the acceptor's
    replication_listener_options options;
    tcp::acceptor acceptor;
    std::atomic<std::uint16_t> port{0};
    std::atomic<bool> stopped{false};

    mutable std::mutex mutex;  // targets and connections
    std::map<std::string, std::shared_ptr<fanout_target>> targets;
    // A connection's stream (until it is upgraded) and what stops its coroutine.
    struct connection {
        std::shared_ptr<beast::tcp_stream> stream;
        std::shared_ptr<asio::cancellation_signal> cancel;
    };
    std::list<connection> connections;

    awaitable<void> accept_loop();
    awaitable<void> serve(std::shared_ptr<beast::tcp_stream> stream, std::string peer);
    void forget(const std::shared_ptr<beast::tcp_stream>& stream) {
        std::lock_guard lock(mutex);
        connections.remove_if([&](const connection& c) { return c.stream == stream; });
    }
};

namespace {

http::response<http::string_body> plain(http::status status, unsigned version,
                                        std::string_view code, std::string_view message) {
    http::response<http::string_body> res{status, version};
    res.set(http::field::content_type, "application/json");
    res.body() = fmt::format(R"({{"error":{{"code":"{}","message":"{}"}}}})", code, message);
    res.keep_alive(false);
    res.prepare_payload();
    return res;
}

}  // namespace

awaitable<void> replication_listener::state::accept_loop() {
    auto self = shared_from_this();
    while (!stopped) {
        // Each connection gets a strand of its own: a session's coroutines share it.
        tcp::socket socket(asio::make_strand(executor));
        boost::system::error_code ec;
        co_await acceptor.async_accept(socket, asio::redirect_error(use_awaitable, ec));
        if (ec) {
            if (stopped || ec == asio::error::operation_aborted) break;
            continue;
        }
        boost::system::error_code ignored;
        const auto remote = socket.remote_endpoint(ignored);
        const auto peer = fmt::format("{}:{}", remote.address().to_string(), remote.port());
        auto stream = std::make_shared<beast::tcp_stream>(std::move(socket));
        auto cancel = std::make_shared<asio::cancellation_signal>();
        {
            std::lock_guard lock(mutex);
            connections.push_back({stream, cancel});
        }
        asio::co_spawn(stream->get_executor(), serve(stream, peer),
                       asio::bind_cancellation_slot(cancel->slot(), asio::detached));
    }
}

awaitable<void> replication_listener::state::serve(std::shared_ptr<beast::tcp_stream> stream,
                                                   std::string peer) {
    auto self = shared_from_this();
    try {
        beast::flat_buffer buffer;
        http::request_parser<http::string_body> parser;
        parser.header_limit(options.header_limit);
        parser.body_limit(64 * 1024);
        stream->expires_after(std::chrono::seconds(30));
        co_await http::async_read(*stream, buffer, parser, use_awaitable);
        stream->expires_never();
        auto request = parser.release();
        const std::string_view target(request.target().data(), request.target().size());
        const std::string_view prefix = "/v1/replication/";
        std::shared_ptr<fanout_target> served;
        std::optional<http::response<http::string_body>> refusal;
        if (!options.token.empty() &&
            request[http::field::authorization] != "Bearer " + options.token) {
            refusal = plain(http::status::unauthorized, request.version(), "unauthorized",
                            "a bearer token is required");
        } else if (!target.starts_with(prefix)) {
            refusal = plain(http::status::not_found, request.version(), "not_found",
                            "replication is served at /v1/replication/{schema}.{table}");
        } else {
            std::lock_guard lock(mutex);
            const auto it = targets.find(std::string(target.substr(prefix.size())));
            if (it != targets.end()) served = it->second;
        }
        if (!refusal && !served) {
            refusal = plain(http::status::not_found, request.version(), "unknown_table",
                            "no fan-out target serves this table");
        }
        if (!refusal && !beast::websocket::is_upgrade(request)) {
            refusal = plain(http::status::upgrade_required, request.version(), "upgrade_required",
                            "replication needs a WebSocket upgrade");
        }
        if (refusal) {
            co_await http::async_write(*stream, *refusal, use_awaitable);
        } else {
            co_await serve_replication(served, std::move(*stream), std::move(request), peer);
        }
    } catch (const std::exception&) {
        // A connection that failed before the upgrade: nothing to tell.
    }
    boost::system::error_code ignored;
    stream->socket().close(ignored);
    forget(stream);
}

replication_listener::replication_listener(asio::any_io_executor executor,
                                           replication_listener_options options)
    : state_(std::make_shared<state>(std::move(executor), std::move(options))) {}

replication_listener::~replication_listener() { stop(); }

void replication_listener::add(std::shared_ptr<fanout_target> target) {
    const auto table = target->table();
    add(table, std::move(target));
}

void replication_listener::add(const table_identifier& table,
                               std::shared_ptr<fanout_target> target) {
    std::lock_guard lock(state_->mutex);
    state_->targets[table.to_string()] = std::move(target);
}

void replication_listener::start() {
    auto& a = state_->acceptor;
    a.open(state_->options.listen.protocol());
    a.set_option(tcp::acceptor::reuse_address(true));
    a.bind(state_->options.listen);
    a.listen();
    state_->port = a.local_endpoint().port();
    asio::co_spawn(state_->strand, state_->accept_loop(), asio::detached);
}

void replication_listener::stop() {
    auto s = state_;
    if (s->stopped.exchange(true)) return;
    asio::dispatch(s->strand, [s] {
        boost::system::error_code ignored;
        s->acceptor.close(ignored);
    });
    std::lock_guard lock(s->mutex);
    for (const auto& c : s->connections) {
        // On the connection's own strand: before the upgrade its socket is closed, after it
        // the session is cancelled (and closes its socket).
        auto stream = c.stream;
        auto cancel = c.cancel;
        asio::dispatch(stream->get_executor(), [stream, cancel] {
            cancel->emit(asio::cancellation_type::terminal);
            boost::system::error_code ignored;
            stream->socket().close(ignored);
        });
    }
}

std::uint16_t replication_listener::port() const { return state_->port; }

std::string replication_listener::url(const table_identifier& table) const {
    return fmt::format("ws://127.0.0.1:{}/v1/replication/{}", port(), table.to_string());
}

std::size_t replication_listener::connections() const {
    std::lock_guard lock(state_->mutex);
    return state_->connections.size();
}

}  // namespace laredo::targets::fanout
