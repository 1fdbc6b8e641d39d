#pragma once

// What the loopback tests share: a fan-out target fed by the test (no engine), served by a
// replication_listener, and a raw protocol client that shows every message.

#include "fanout_support.hpp"

#include "laredo/replica/client.hpp"
#include "laredo/replica/messages.hpp"
#include "laredo/targets/fanout/fanout_target.hpp"
#include "laredo/targets/fanout/replication_listener.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/websocket.hpp>

#include <memory>
#include <string>
#include <vector>

namespace laredo::fanout_test {

namespace asio = boost::asio;
namespace beast = boost::beast;
using asio::awaitable;
using asio::use_awaitable;
using targets::fanout::fanout_target;
using targets::fanout::fanout_target_options;
using targets::fanout::replication_listener;

// A served table: the target, fed by the test with positions 1, 2, 3...
struct served_table {
    served_table(asio::io_context& ctx, fanout_target_options o = {})
        : target(std::make_shared<fanout_target>(ctx.get_executor(), std::move(o))),
          listener(ctx.get_executor()) {
        listener.add(accounts, target);
        listener.start();
    }
    ~served_table() { listener.stop(); }

    std::string url() const { return listener.url(accounts); }

    awaitable<void> baseline(std::size_t rows) {
        co_await target->on_init(accounts, accounts_schema());
        std::vector<row> all;
        for (std::size_t i = 1; i <= rows; ++i) all.push_back(row_of(i, "v0"));
        co_await target->on_baseline_rows(accounts, all);
        co_await target->on_baseline_complete(accounts, position::from_sequence(pos));
    }

    // One transaction of `changes`, each at the next position.
    awaitable<void> apply(std::vector<change_event> changes) {
        for (auto& c : changes) c.pos = position::from_sequence(++pos);
        for (std::size_t i = 0; i < changes.size(); ++i) {
            changes[i].ends_transaction = i + 1 == changes.size();
        }
        co_await target->on_changes(accounts, changes);
    }
    awaitable<void> upsert(std::int64_t id, std::string region, std::string name = "n") {
        std::vector<change_event> one{update(0, account("t", id, region, name))};
        co_await apply(std::move(one));
    }
    awaitable<void> erase(std::int64_t id) {
        std::vector<change_event> one{remove(0, account("t", id, value()))};
        co_await apply(std::move(one));
    }

    static row row_of(std::size_t id, std::string region) {
        return account("t", static_cast<std::int64_t>(id), value(std::move(region)));
    }

    std::shared_ptr<fanout_target> target;
    replication_listener listener;
    std::uint64_t pos = 1;
};

// A bare protocol client: sends a sync request, hands back each message (decoded and as text).
class raw_client {
  public:
    // receive_buffer: a small socket receive buffer makes a client that stops reading fill
    // the server's queue soon (0: the system's default).
    static awaitable<std::unique_ptr<raw_client>> connect(std::string url, int receive_buffer = 0) {
        auto c = std::make_unique<raw_client>(co_await asio::this_coro::executor);
        const auto rest = url.substr(5);  // after ws://
        const auto slash = rest.find('/');
        const auto colon = rest.find(':');
        const auto host = rest.substr(0, colon);
        const auto port = rest.substr(colon + 1, slash - colon - 1);
        asio::ip::tcp::resolver resolver(c->ws_.get_executor());
        const auto endpoints = co_await resolver.async_resolve(host, port, use_awaitable);
        auto& socket = beast::get_lowest_layer(c->ws_).socket();
        if (receive_buffer > 0) {
            socket.open(endpoints.begin()->endpoint().protocol());
            socket.set_option(asio::socket_base::receive_buffer_size(receive_buffer));
            co_await socket.async_connect(*endpoints.begin(), use_awaitable);
        } else {
            co_await beast::get_lowest_layer(c->ws_).async_connect(endpoints, use_awaitable);
        }
        co_await c->ws_.async_handshake(host + ":" + port, rest.substr(slash), use_awaitable);
        c->ws_.read_message_max(64u << 20);
        co_return c;
    }

    explicit raw_client(asio::any_io_executor ex) : ws_(ex) {}

    awaitable<void> send(const replica::sync_request& r) {
        const auto text = replica::encode(r);
        co_await ws_.async_write(asio::buffer(text), use_awaitable);
    }
    awaitable<void> send_text(std::string text) {
        co_await ws_.async_write(asio::buffer(text), use_awaitable);
    }

    // The next message, or nullopt when the server closed (reason()).
    awaitable<std::optional<replica::server_message>> next() {
        beast::flat_buffer buffer;
        auto [ec, n] = co_await ws_.async_read(buffer, asio::as_tuple(use_awaitable));
        if (ec) co_return std::nullopt;
        last_text = beast::buffers_to_string(buffer.data());
        texts.push_back(last_text);
        auto m = replica::decode_server_message(last_text, schema);
        if (const auto* h = std::get_if<replica::handshake>(&m))
            schema = row_schema::make(h->columns);
        if (const auto* s = std::get_if<replica::schema_change>(&m))
            schema = row_schema::make(s->columns);
        co_return m;
    }

    std::string reason() const {
        return std::string(ws_.reason().reason.data(), ws_.reason().reason.size());
    }
    void close() {
        boost::system::error_code ignored;
        beast::get_lowest_layer(ws_).socket().close(ignored);
    }

    schema_ptr schema;
    std::string last_text;
    std::vector<std::string> texts;

  private:
    beast::websocket::stream<beast::tcp_stream> ws_;
};

inline replica::client_options client_for(const std::string& url) {
    replica::client_options o;
    o.servers = {url};
    o.reconnect_initial = std::chrono::milliseconds(20);
    o.reconnect_max = std::chrono::milliseconds(200);
    return o;
}

}  // namespace laredo::fanout_test
