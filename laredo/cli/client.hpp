#pragma once

// The HTTP side of the CLI: one blocking request per call over Beast (plain or TLS), the
// server's error answers turned into call_failed with the next thing to try.

#include "laredo/cli/errors.hpp"

#include <boost/asio/ssl/context.hpp>
#include <boost/json/value.hpp>

#include <chrono>
#include <string>
#include <string_view>

namespace laredo::cli {

// Where the server is: "http://127.0.0.1:4001" or "https://host:port" (a path is refused).
struct server_address {
    bool tls = false;
    std::string host;
    std::string port;
    std::string text;  // as given, for messages
};

// Throws usage_error naming what is wrong with `url`.
server_address parse_server_address(std::string_view url);

struct client_options {
    std::string server = "http://127.0.0.1:4001";
    std::string token;
    std::chrono::milliseconds timeout{std::chrono::seconds(10)};
    std::string ca_file;  // https: trust this CA instead of the system's
};

struct response {
    unsigned status = 0;
    std::string body;
    // The body as JSON; throws call_failed when it is not.
    boost::json::value json() const;
};

class api_client {
  public:
    explicit api_client(client_options options);

    // Sends one request; the answer whatever its status. Throws call_failed when the
    // server cannot be reached or does not answer within the timeout.
    response send(std::string_view method, const std::string& target,
                  const std::string& body = {}) const;
    // As send, and a status of 400 or more throws call_failed with the server's message.
    boost::json::value call(std::string_view method, const std::string& target,
                            const std::string& body = {}) const;
    // GET shorthand for call.
    boost::json::value get(const std::string& target) const { return call("GET", target); }

    const client_options& options() const noexcept { return options_; }
    const server_address& address() const noexcept { return address_; }

  private:
    client_options options_;
    server_address address_;
};

// The TLS client context for https servers: the system's CAs, or options.ca_file.
boost::asio::ssl::context make_tls_context(const client_options& options);

// The server's error answer as call_failed (message from {"error":{...}} and a hint).
call_failed error_of(const response& r, const server_address& where);

// A path segment or query value, percent-encoded (RFC 3986 unreserved characters kept).
std::string url_encode(std::string_view text);

}  // namespace laredo::cli
