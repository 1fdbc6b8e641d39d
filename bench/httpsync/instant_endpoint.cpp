#include "instant_endpoint.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>

#include <atomic>
#include <mutex>
#include <thread>
#include <vector>

namespace laredo::bench {

namespace asio = boost::asio;
namespace http = boost::beast::http;
using asio::ip::tcp;

struct instant_endpoint::impl {
    asio::io_context ctx;
    tcp::acceptor acceptor{ctx, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)};
    const unsigned short port = acceptor.local_endpoint().port();
    std::atomic<bool> stopping{false};
    std::atomic<std::uint64_t> answered{0};
    std::mutex mutex;
    std::vector<std::thread> connections;
    std::thread accepting;

    void accept_loop() {
        for (;;) {
            boost::system::error_code ec;
            tcp::socket socket(ctx);
            acceptor.accept(socket, ec);
            if (ec || stopping.load()) return;
            socket.set_option(tcp::no_delay(true), ec);
            std::lock_guard lock(mutex);
            connections.emplace_back([this, s = std::move(socket)]() mutable { serve(s); });
        }
    }

    // Until the client closes the connection.
    void serve(tcp::socket& socket) {
        boost::beast::flat_buffer buffer;
        http::response<http::string_body> res{http::status::ok, 11};
        res.set(http::field::content_type, "application/json");
        res.keep_alive(true);
        res.body() = "{}";
        res.prepare_payload();
        for (;;) {
            boost::system::error_code ec;
            http::request_parser<http::string_body> parser;
            parser.body_limit(64u << 20);
            http::read(socket, buffer, parser, ec);
            if (ec) return;
            http::write(socket, res, ec);
            if (ec) return;
            answered.fetch_add(1, std::memory_order_relaxed);
        }
    }
};

instant_endpoint::instant_endpoint() : impl_(std::make_unique<impl>()) {
    impl_->accepting = std::thread([this] { impl_->accept_loop(); });
}

instant_endpoint::~instant_endpoint() {
    // A blocking accept is not woken by closing the acceptor: connect once so it returns.
    impl_->stopping = true;
    boost::system::error_code ec;
    {
        tcp::socket poke(impl_->ctx);
        poke.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), impl_->port), ec);
    }
    impl_->accepting.join();
    impl_->acceptor.close(ec);
    std::lock_guard lock(impl_->mutex);
    for (auto& t : impl_->connections) t.join();
}

std::string instant_endpoint::url() const {
    return "http://127.0.0.1:" + std::to_string(impl_->port);
}

std::uint64_t instant_endpoint::requests() const { return impl_->answered.load(); }

}  // namespace laredo::bench
