#pragma once

#include "laredo/server/config/server_config.hpp"
#include "laredo/server/http/feed.hpp"
#include "laredo/server/http/message.hpp"

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

namespace laredo::server::http {

// What a listener serves. Called on the connection's strand.
class handler {
  public:
    virtual ~handler() = default;
    virtual boost::asio::awaitable<response> handle(request req,
                                                    const config::listener_config& listener) = 0;

    // A connection handed over whole: the plain TCP stream, the upgrade request (not yet
    // answered) and the peer's "address:port". For protocols that run their own WebSocket
    // session (replication); completes when the connection ends.
    using takeover = std::function<boost::asio::awaitable<void>(
        boost::beast::tcp_stream, boost::beast::http::request<boost::beast::http::string_body>,
        std::string)>;

    // A WebSocket upgrade request: a feed to stream to the client, or a takeover of the
    // connection, or (both null) the response that refuses it. A takeover is for plain
    // connections: on a TLS listener it is refused with 501.
    struct upgrade {
        std::shared_ptr<message_feed> feed;
        response refusal;
        takeover hand_over = {};
    };
    virtual upgrade websocket(const request& req, const config::listener_config& listener) = 0;
};

// One listening socket: HTTP/1.1 with keep-alive (Beast), optional TLS, WebSocket upgrades,
// and limits a hostile client cannot get around: header and body sizes (431 / 413, then the
// connection closes), a timeout for each request and for idle keep-alive connections
// (half-open connections are closed), a connection cap, malformed requests answered 400.
//
// Threads: every connection runs on a strand of its own; start/stop/port from any thread.
class server {
  public:
    server(boost::asio::any_io_executor executor, config::listener_config listener,
           config::http_limits limits, std::shared_ptr<handler> h);
    ~server();
    server(const server&) = delete;
    server& operator=(const server&) = delete;

    // Loads the TLS certificate and key (when configured), binds and listens. Throws
    // laredo::error naming the listener and what failed (a bad certificate is an error,
    // never ignored).
    void start();
    // Stops accepting and closes every connection (WebSocket feeds are cancelled).
    void stop();
    // The bound port (the one chosen when the configured port is 0).
    std::uint16_t port() const;
    std::size_t connections() const;
    const config::listener_config& listener() const;

  private:
    struct state;
    std::shared_ptr<state> state_;
};

}  // namespace laredo::server::http
