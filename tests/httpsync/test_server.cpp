#include "test_server.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <deque>
#include <mutex>
#include <thread>

namespace laredo::testing::httpsync {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using asio::awaitable;
using asio::use_awaitable;
using asio::ip::tcp;

struct test_server::impl : std::enable_shared_from_this<impl> {
    asio::io_context ctx;
    tcp::acceptor acceptor{ctx};
    std::optional<asio::ssl::context> tls;
    asio::steady_timer unstalled{ctx, asio::steady_timer::time_point::max()};
    std::atomic<bool> stalled{false};
    std::thread thread;

    mutable std::mutex mutex;
    std::deque<reply> scripted;
    reply fallback;
    std::vector<recorded_request> seen;
    std::size_t accepted = 0;
    std::size_t handshake_failures = 0;

    reply next_reply() {
        std::lock_guard lock(mutex);
        if (scripted.empty()) return fallback;
        reply r = std::move(scripted.front());
        scripted.pop_front();
        return r;
    }

    awaitable<void> accept_loop() {
        for (;;) {
            boost::system::error_code ec;
            auto socket = co_await acceptor.async_accept(asio::redirect_error(use_awaitable, ec));
            if (ec) co_return;  // closed
            socket.set_option(tcp::no_delay(true), ec);
            std::size_t id = 0;
            {
                std::lock_guard lock(mutex);
                id = ++accepted;
            }
            if (tls) {
                asio::co_spawn(ctx, serve_tls(std::move(socket), id), asio::detached);
            } else {
                asio::co_spawn(ctx, serve(std::move(socket), id), asio::detached);
            }
        }
    }

    awaitable<void> serve_tls(tcp::socket socket, std::size_t id) {
        asio::ssl::stream<tcp::socket> stream(std::move(socket), *tls);
        boost::system::error_code ec;
        co_await stream.async_handshake(asio::ssl::stream_base::server,
                                        asio::redirect_error(use_awaitable, ec));
        if (ec) {
            std::lock_guard lock(mutex);
            ++handshake_failures;
            co_return;
        }
        co_await serve(std::move(stream), id);
    }

    static tcp::socket& socket_of(tcp::socket& s) { return s; }
    static tcp::socket& socket_of(asio::ssl::stream<tcp::socket>& s) { return s.next_layer(); }

    template <class Stream>
    awaitable<void> serve(Stream stream, std::size_t id) {
        beast::flat_buffer buffer;
        for (;;) {
            boost::system::error_code ec;
            http::request_parser<http::string_body> parser;
            parser.body_limit(64u << 20);
            co_await http::async_read_header(stream, buffer, parser,
                                             asio::redirect_error(use_awaitable, ec));
            if (ec) co_return;
            reply r = next_reply();
            if (r.what == reply::fault::reset_after_headers) {
                record(parser.get(), id, /*with_body=*/false);
                // SO_LINGER 0: close() sends RST instead of FIN.
                auto& s = socket_of(stream);
                s.set_option(tcp::socket::linger(true, 0), ec);
                s.close(ec);
                co_return;
            }
            co_await http::async_read(stream, buffer, parser,
                                      asio::redirect_error(use_awaitable, ec));
            if (ec) co_return;
            record(parser.get(), id, /*with_body=*/true);
            const bool keep_alive = parser.get().keep_alive() && !r.close;
            if (r.what == reply::fault::hang_up) {
                socket_of(stream).shutdown(tcp::socket::shutdown_send, ec);
                co_return;
            }
            if (r.what == reply::fault::malformed) {
                static constexpr std::string_view junk = "HTTP/1.1 OK-ish\r\nno colon here\r\n\r\n";
                co_await asio::async_write(stream, asio::buffer(junk.data(), junk.size()),
                                           asio::redirect_error(use_awaitable, ec));
                socket_of(stream).shutdown(tcp::socket::shutdown_send, ec);
                co_return;
            }

            while (stalled.load()) {
                co_await unstalled.async_wait(asio::redirect_error(use_awaitable, ec));
            }
            if (r.delay.count() > 0) {
                asio::steady_timer t(ctx, r.delay);
                co_await t.async_wait(asio::redirect_error(use_awaitable, ec));
            }

            http::response<http::string_body> res{static_cast<http::status>(r.status), 11};
            res.set(http::field::content_type, "application/json");
            for (const auto& [name, value] : r.headers) res.set(name, value);
            res.keep_alive(keep_alive);
            res.body() = r.body;
            res.prepare_payload();
            if (r.what == reply::fault::cut_response) {
                // Promise more body than is sent, then hang up.
                res.content_length(r.body.size() + 100);
                http::response_serializer<http::string_body> sr(res);
                co_await http::async_write_header(stream, sr,
                                                  asio::redirect_error(use_awaitable, ec));
                co_await asio::async_write(stream, asio::buffer(r.body.substr(0, 2)),
                                           asio::redirect_error(use_awaitable, ec));
                socket_of(stream).close(ec);
                co_return;
            }
            co_await http::async_write(stream, res, asio::redirect_error(use_awaitable, ec));
            if (ec || !keep_alive) {
                socket_of(stream).shutdown(tcp::socket::shutdown_send, ec);
                co_return;
            }
        }
    }

    void record(const http::request<http::string_body>& req, std::size_t id, bool with_body) {
        recorded_request out;
        out.method = std::string(req.method_string());
        out.target = std::string(req.target());
        for (const auto& field : req) {
            std::string name(field.name_string());
            std::transform(name.begin(), name.end(), name.begin(),
                           [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
            out.headers[name] = std::string(field.value());
        }
        if (with_body) out.body = req.body();
        out.connection = id;
        out.received = std::chrono::steady_clock::now();
        std::lock_guard lock(mutex);
        seen.push_back(std::move(out));
    }
};

test_server::test_server(std::optional<tls_identity> tls) : impl_(std::make_shared<impl>()) {
    if (tls) {
        auto& ctx = impl_->tls.emplace(asio::ssl::context::tls_server);
        ctx.use_certificate_chain(asio::buffer(tls->certificate_pem));
        ctx.use_private_key(asio::buffer(tls->private_key_pem), asio::ssl::context::pem);
        if (!tls->client_ca_pem.empty()) {
            ctx.add_certificate_authority(asio::buffer(tls->client_ca_pem));
            ctx.set_verify_mode(asio::ssl::verify_peer | asio::ssl::verify_fail_if_no_peer_cert);
        }
    }
    const tcp::endpoint where(asio::ip::make_address("127.0.0.1"), 0);
    impl_->acceptor.open(where.protocol());
    impl_->acceptor.set_option(tcp::acceptor::reuse_address(true));
    impl_->acceptor.bind(where);
    impl_->acceptor.listen();
    asio::co_spawn(impl_->ctx, impl_->accept_loop(), asio::detached);
    impl_->thread = std::thread([i = impl_] { i->ctx.run(); });
}

test_server::~test_server() {
    impl_->ctx.stop();
    impl_->thread.join();
}

std::string test_server::url() const {
    return std::string(impl_->tls ? "https" : "http") +
           "://127.0.0.1:" + std::to_string(impl_->acceptor.local_endpoint().port());
}

void test_server::script(std::vector<reply> replies) {
    std::lock_guard lock(impl_->mutex);
    for (auto& r : replies) impl_->scripted.push_back(std::move(r));
}

void test_server::set_default(reply r) {
    std::lock_guard lock(impl_->mutex);
    impl_->fallback = std::move(r);
}

void test_server::stall(bool on) {
    impl_->stalled = on;
    if (!on) asio::post(impl_->ctx, [i = impl_] { i->unstalled.cancel(); });
}

std::vector<recorded_request> test_server::requests() const {
    std::lock_guard lock(impl_->mutex);
    return impl_->seen;
}

std::size_t test_server::request_count() const {
    std::lock_guard lock(impl_->mutex);
    return impl_->seen.size();
}

std::vector<recorded_request> test_server::requests_to(const std::string& path) const {
    std::lock_guard lock(impl_->mutex);
    std::vector<recorded_request> out;
    for (const auto& r : impl_->seen)
        if (r.target.size() >= path.size() &&
            r.target.compare(r.target.size() - path.size(), path.size(), path) == 0)
            out.push_back(r);
    return out;
}

std::size_t test_server::connections() const {
    std::lock_guard lock(impl_->mutex);
    return impl_->accepted;
}

std::size_t test_server::failed_handshakes() const {
    std::lock_guard lock(impl_->mutex);
    return impl_->handshake_failures;
}

}  // namespace laredo::testing::httpsync
