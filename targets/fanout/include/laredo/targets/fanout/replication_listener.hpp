#pragma once

#include "laredo/table_identifier.hpp"
#include "laredo/targets/fanout/fanout_target.hpp"

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/ip/tcp.hpp>

#include <cstdint>
#include <memory>
#include <string>

namespace laredo::targets::fanout {

struct replication_listener_options {
    boost::asio::ip::tcp::endpoint listen{boost::asio::ip::make_address("127.0.0.1"), 0};
    // When set, every request needs "Authorization: Bearer <token>" (401 otherwise).
    std::string token;
    // Limit of the upgrade request's header (431 beyond).
    std::uint32_t header_limit = 8 * 1024;
};

// A listener of its own for fan-out targets, for embedders without laredo's server (and for
// tests): serves ws://host:port/v1/replication/{schema}.{table} for every target added,
// through serve_replication (websocket.hpp). Plain HTTP answers: 404 for another path or an
// unknown table, 426 when the request is not a WebSocket upgrade, 401 without the token.
//
// Threads: each connection runs on a strand of its own made from the executor given; add(),
// start(), stop() and the accessors are safe from any thread.
class replication_listener {
  public:
    replication_listener(boost::asio::any_io_executor executor,
                         replication_listener_options options = {});
    ~replication_listener();
    replication_listener(const replication_listener&) = delete;
    replication_listener& operator=(const replication_listener&) = delete;

    // Serves the target's table (target->table(), known after on_init; or `table`).
    void add(std::shared_ptr<fanout_target> target);
    void add(const table_identifier& table, std::shared_ptr<fanout_target> target);

    // Binds and listens at once (so port() is known), then accepts in a coroutine. Throws
    // boost::system::system_error when the endpoint cannot be bound.
    void start();
    // Stops accepting and closes every connection. Safe to call more than once.
    void stop();
    std::uint16_t port() const;
    // "ws://127.0.0.1:<port>/v1/replication/<schema>.<table>"
    std::string url(const table_identifier& table) const;
    // Connections open now (upgraded or not).
    std::size_t connections() const;

  private:
    struct state;
    std::shared_ptr<state> state_;
};

}  // namespace laredo::targets::fanout
