#pragma once

// A real HTTP/1.1 server (Beast) on a loopback port, plain or TLS, for the HTTP sync target's
// tests. It runs on a thread of its own, records every request, and answers as scripted:
// statuses, headers, delays, stalls and broken connections.

#include <chrono>
#include <cstddef>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace laredo::testing::httpsync {

struct recorded_request {
    std::string method;
    std::string target;
    std::map<std::string, std::string> headers;  // names in lowercase
    std::string body;
    std::size_t connection = 0;  // 1 for the first connection the server accepted
    std::chrono::steady_clock::time_point received{};

    std::string header(const std::string& lowercase_name) const {
        const auto it = headers.find(lowercase_name);
        return it == headers.end() ? std::string() : it->second;
    }
};

// What the server does with one request.
struct reply {
    enum class fault {
        none,
        reset_after_headers,  // read the request's headers, then reset the connection
        cut_response,         // send the headers and part of the body, then close
        hang_up,              // read the whole request, then close without answering
        malformed,            // read the whole request, answer bytes that are not HTTP, close
    };

    int status = 200;
    std::vector<std::pair<std::string, std::string>> headers;
    std::string body = "{}";
    std::chrono::milliseconds delay{0};  // before answering
    fault what = fault::none;
    bool close = false;  // answer with Connection: close and close afterwards
};

struct tls_identity {
    std::string certificate_pem;  // the server's certificate (chain)
    std::string private_key_pem;
    std::string client_ca_pem;  // when set, clients must present a certificate it signed
};

class test_server {
  public:
    // Listens on 127.0.0.1 on a free port and serves on its own thread.
    explicit test_server(std::optional<tls_identity> tls = std::nullopt);
    ~test_server();
    test_server(const test_server&) = delete;
    test_server& operator=(const test_server&) = delete;

    // "http://127.0.0.1:PORT" (https with TLS).
    std::string url() const;

    // The replies to the next requests, in order; after them, the default reply.
    void script(std::vector<reply> replies);
    void set_default(reply r);
    // While stalled, requests are read but not answered until stall(false).
    void stall(bool on);

    std::vector<recorded_request> requests() const;
    std::size_t request_count() const;
    // Requests whose target ends with `path`.
    std::vector<recorded_request> requests_to(const std::string& path) const;
    std::size_t connections() const;
    // TLS handshakes that failed (the client refused the certificate, or sent none).
    std::size_t failed_handshakes() const;

  private:
    struct impl;
    std::shared_ptr<impl> impl_;
};

}  // namespace laredo::testing::httpsync
