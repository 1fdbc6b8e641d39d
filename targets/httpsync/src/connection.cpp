#include "connection.hpp"

#include "laredo/error.hpp"

#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/host_name_verification.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/span_body.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>

#include <openssl/ssl.h>

#include <fmt/format.h>

#include <optional>

namespace laredo::targets::httpsync::detail {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using asio::awaitable;
using asio::use_awaitable;
using asio::ip::tcp;

class tls_settings {
  public:
    asio::ssl::context context{asio::ssl::context::tls_client};
};

std::shared_ptr<tls_settings> make_tls_settings(const http_sync_options& options) {
    auto tls = std::make_shared<tls_settings>();
    auto& ctx = tls->context;
    ctx.set_options(asio::ssl::context::default_workarounds | asio::ssl::context::no_sslv2 |
                    asio::ssl::context::no_sslv3 | asio::ssl::context::no_tlsv1 |
                    asio::ssl::context::no_tlsv1_1);
    ctx.set_verify_mode(asio::ssl::verify_peer);
    boost::system::error_code ec;
    if (options.ca_file.empty()) {
        ctx.set_default_verify_paths(ec);
        if (ec)
            throw error(
                errc::invalid_config,
                fmt::format("httpsync: cannot load the system's CA store: {}", ec.message()));
    } else {
        ctx.load_verify_file(options.ca_file, ec);
        if (ec)
            throw error(errc::invalid_config, fmt::format("httpsync: cannot load ca_file {}: {}",
                                                          options.ca_file, ec.message()));
    }
    if (!options.client_cert_file.empty()) {
        ctx.use_certificate_chain_file(options.client_cert_file, ec);
        if (ec)
            throw error(errc::invalid_config,
                        fmt::format("httpsync: cannot load client_cert_file {}: {}",
                                    options.client_cert_file, ec.message()));
        ctx.use_private_key_file(options.client_key_file, asio::ssl::context::pem, ec);
        if (ec)
            throw error(errc::invalid_config,
                        fmt::format("httpsync: cannot load client_key_file {}: {}",
                                    options.client_key_file, ec.message()));
    }
    return tls;
}

namespace {

using plain_stream = beast::tcp_stream;
using tls_stream = beast::ssl_stream<beast::tcp_stream>;

constexpr std::size_t max_response_body = 4u << 20;
constexpr std::size_t kept_body = 1024;

bool is_ip_address(const std::string& host) {
    boost::system::error_code ec;
    asio::ip::make_address(host, ec);
    return !ec;
}

// The server closed a connection we had kept open, before answering anything.
bool is_stale_connection(const boost::system::error_code& ec) {
    return ec == http::error::end_of_stream || ec == asio::error::eof ||
           ec == asio::error::connection_reset || ec == asio::error::broken_pipe ||
           ec == asio::error::connection_aborted || ec == asio::ssl::error::stream_truncated;
}

}  // namespace

struct http_connection::state {
    state(asio::any_io_executor ex, endpoint e, std::shared_ptr<tls_settings> t,
          connection_timeouts to)
        : executor(std::move(ex)), where(std::move(e)), tls(std::move(t)), timeouts(to) {}

    asio::any_io_executor executor;
    endpoint where;
    std::shared_ptr<tls_settings> tls;
    connection_timeouts timeouts;
    std::optional<plain_stream> plain;
    std::optional<tls_stream> secure;
    beast::flat_buffer buffer;
    std::uint64_t connections = 0;
    std::uint64_t requests = 0;
    std::uint64_t requests_on_connection = 0;

    bool open() const { return plain.has_value() || secure.has_value(); }
    beast::tcp_stream& lowest() { return secure ? beast::get_lowest_layer(*secure) : *plain; }

    void close() noexcept {
        boost::system::error_code ignored;
        if (secure) {
            beast::get_lowest_layer(*secure).socket().close(ignored);
            secure.reset();
        }
        if (plain) {
            plain->socket().close(ignored);
            plain.reset();
        }
        buffer.clear();
        requests_on_connection = 0;
    }

    awaitable<tcp::resolver::results_type> resolve() {
        using namespace asio::experimental::awaitable_operators;
        tcp::resolver resolver(executor);
        asio::steady_timer timer(executor, timeouts.connect);
        auto result = co_await (resolver.async_resolve(where.host, where.port, use_awaitable) ||
                                timer.async_wait(use_awaitable));
        if (result.index() == 1)
            throw boost::system::system_error(beast::error::timeout, "resolving " + where.host);
        co_return std::get<0>(std::move(result));
    }

    awaitable<void> connect() {
        close();
        const auto addresses = co_await resolve();
        if (where.tls) {
            secure.emplace(executor, tls->context);
        } else {
            plain.emplace(executor);
        }
        auto& tcp_layer = lowest();
        tcp_layer.expires_after(timeouts.connect);
        co_await tcp_layer.async_connect(addresses, use_awaitable);
        tcp_layer.socket().set_option(tcp::no_delay(true));
        if (secure) {
            // SNI only for names; the certificate must match the host (name or IP address).
            if (!is_ip_address(where.host) &&
                !SSL_set_tlsext_host_name(secure->native_handle(), where.host.c_str()))
                throw boost::system::system_error(
                    boost::system::error_code(static_cast<int>(::ERR_get_error()),
                                              asio::error::get_ssl_category()),
                    "setting the TLS server name");
            secure->set_verify_callback(asio::ssl::host_name_verification(where.host));
            co_await secure->async_handshake(asio::ssl::stream_base::client, use_awaitable);
        }
        tcp_layer.expires_never();
        ++connections;
    }

    template <class Stream>
    awaitable<http_response> exchange(Stream& stream, const http_request& request) {
        http::request<http::span_body<const char>> req;
        req.method(http::verb::post);
        req.target(beast::string_view(request.target.data(), request.target.size()));
        req.version(11);
        req.set(http::field::host, where.host_header);
        req.set(http::field::user_agent, "laredo-httpsync/" LAREDO_HTTPSYNC_VERSION);
        req.set(http::field::content_type, "application/json");
        req.set(http::field::accept, "application/json");
        for (const auto& [name, value] : request.headers) req.set(name, value);
        req.body() = boost::span<const char>(request.body.data(), request.body.size());
        req.prepare_payload();

        const auto started = std::chrono::steady_clock::now();
        lowest().expires_after(timeouts.request);
        ++requests;
        ++requests_on_connection;
        co_await http::async_write(stream, req, use_awaitable);
        http::response_parser<http::string_body> parser;
        parser.body_limit(max_response_body);
        co_await http::async_read(stream, buffer, parser, use_awaitable);
        lowest().expires_never();

        const auto& res = parser.get();
        http_response out;
        out.latency = std::chrono::duration_cast<std::chrono::microseconds>(
            std::chrono::steady_clock::now() - started);
        out.status = static_cast<int>(res.result_int());
        out.reason = std::string(res.reason());
        if (const auto it = res.find(http::field::retry_after); it != res.end())
            out.retry_after = std::string(it->value());
        out.body = res.body().substr(0, kept_body);
        if (!res.keep_alive()) close();
        co_return out;
    }

    awaitable<http_response> attempt(const http_request& request) {
        if (secure) co_return co_await exchange(*secure, request);
        co_return co_await exchange(*plain, request);
    }
};

http_connection::http_connection(asio::any_io_executor executor, endpoint where,
                                 std::shared_ptr<tls_settings> tls, connection_timeouts timeouts)
    : s_(std::make_unique<state>(std::move(executor), std::move(where), std::move(tls), timeouts)) {
    if (s_->where.tls && !s_->tls)
        throw error(errc::invalid_argument, "httpsync: an https endpoint needs TLS settings");
}

http_connection::~http_connection() { s_->close(); }

void http_connection::close() noexcept { s_->close(); }
bool http_connection::is_open() const noexcept { return s_->open(); }

std::uint64_t http_connection::connections_opened() const noexcept { return s_->connections; }
std::uint64_t http_connection::requests_sent() const noexcept { return s_->requests; }

awaitable<http_response> http_connection::send(const http_request& request) {
    const bool reused = s_->open();
    try {
        if (!reused) co_await s_->connect();
        co_return co_await s_->attempt(request);
    } catch (const boost::system::system_error& e) {
        s_->close();
        if (!reused || !is_stale_connection(e.code())) throw;
    } catch (...) {
        s_->close();
        throw;
    }
    try {
        co_await s_->connect();
        co_return co_await s_->attempt(request);
    } catch (...) {
        s_->close();
        throw;
    }
}

}  // namespace laredo::targets::httpsync::detail
