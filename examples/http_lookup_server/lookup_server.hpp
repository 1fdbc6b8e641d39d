#pragma once

#include "laredo/engine.hpp"

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/ip/tcp.hpp>

#include <cstdint>
#include <memory>
#include <string>

namespace laredo::examples {

struct lookup_server_options {
    boost::asio::ip::tcp::endpoint listen{boost::asio::ip::make_address("127.0.0.1"), 0};
    // Empty: a table is looked up in every source's targets.
    std::string source_id;
    // Beast parser limits: a hostile client cannot make a connection allocate without bound.
    std::uint32_t header_limit = 8 * 1024;
    std::uint64_t body_limit = 64 * 1024;
};

// A small HTTP/1.1 server (Beast, one coroutine per connection, keep-alive) that answers
// lookups from the engine's indexed memory targets:
//   GET /health/ready                               200 {"ready":true} or 503
//   GET /v1/tables                                  the pipelines
//   GET /v1/tables/{schema.table}/count             {"count":N}
//   GET /v1/tables/{schema.table}/rows/{key}        the row, 404 when absent
//   GET /v1/tables/{schema.table}/index/{name}/{v}  the rows with that index value
// Errors are {"error":{"code":"...","message":"..."}}. Beast stays inside the .cpp.
//
// Threads: the accept loop and the connections run on the executor given; with a
// multi-threaded io_context pass a strand so start/stop and the connection set share it.
class lookup_server {
  public:
    lookup_server(boost::asio::any_io_executor executor, engine eng,
                  lookup_server_options options = {});
    ~lookup_server();
    lookup_server(const lookup_server&) = delete;
    lookup_server& operator=(const lookup_server&) = delete;

    // Binds and listens at once (so local_port() is known), then accepts in a coroutine.
    // Throws boost::system::system_error when the endpoint cannot be bound.
    void start();
    // Closes the acceptor and every open connection. Safe to call more than once.
    void stop();
    // The bound port (the one picked when the endpoint's port was 0); 0 before start().
    std::uint16_t local_port() const;

  private:
    struct state;
    std::shared_ptr<state> state_;
};

}  // namespace laredo::examples
