#pragma once

// The HTTP/1.1 client under the target: one keep-alive connection, plain or TLS, with
// connect and request timeouts. Beast stays inside connection.cpp; this header is cheap.

#include "url.hpp"

#include "laredo/targets/httpsync/options.hpp"

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace laredo::targets::httpsync::detail {

struct http_request {
    std::string_view target;  // path (prefix included)
    std::string_view body;    // JSON; must outlive send()
    // Besides Host, User-Agent, Content-Type and Content-Length, which send() sets.
    std::vector<std::pair<std::string, std::string>> headers;
};

struct http_response {
    int status = 0;
    std::string reason;
    std::string retry_after;  // the Retry-After header, "" when absent
    std::string body;         // the start of the body (up to 1 KiB), for error messages
    std::chrono::microseconds latency{0};  // request written to response read
};

// An OpenSSL client context with verification on, the CA file and the client certificate
// loaded. Opaque outside connection.cpp.
class tls_settings;
// Throws laredo::error(errc::invalid_config) naming a file that cannot be loaded.
std::shared_ptr<tls_settings> make_tls_settings(const http_sync_options& options);

struct connection_timeouts {
    std::chrono::milliseconds connect{10'000};
    std::chrono::milliseconds request{30'000};
};

class http_connection {
  public:
    // `tls` is required for an https endpoint. All calls on one strand (the executor's).
    http_connection(boost::asio::any_io_executor executor, endpoint where,
                    std::shared_ptr<tls_settings> tls, connection_timeouts timeouts);
    ~http_connection();
    http_connection(const http_connection&) = delete;
    http_connection& operator=(const http_connection&) = delete;

    // POSTs `request` and reads the whole response, connecting first when no connection is
    // open, and keeps the connection unless the server closes it. A request that fails on a
    // reused connection before any byte of the answer arrived (the server had closed the
    // idle connection) is sent once more on a new connection.
    // Throws boost::system::system_error for failures without a response: network errors,
    // TLS failures, timeouts (beast::error::timeout), malformed responses. The connection is
    // closed after any failure.
    // Cancellation: close() aborts a request in progress (operation_aborted).
    boost::asio::awaitable<http_response> send(const http_request& request);

    // Closes the connection now; the next send connects again.
    void close() noexcept;
    bool is_open() const noexcept;

    // Connections opened so far, and requests sent (the resend on a new connection included).
    std::uint64_t connections_opened() const noexcept;
    std::uint64_t requests_sent() const noexcept;

  private:
    struct state;
    std::unique_ptr<state> s_;
};

}  // namespace laredo::targets::httpsync::detail
