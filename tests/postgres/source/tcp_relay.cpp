#include "tcp_relay.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

#include <array>
#include <future>

namespace laredo::sources::postgres::testing {

namespace asio = boost::asio;
using asio::ip::tcp;

struct tcp_relay_access {
    using socket_ptr = std::shared_ptr<tcp::socket>;

    // Copies one direction until either end closes, then closes both.
    static asio::awaitable<void> pump(socket_ptr from, socket_ptr to) {
        std::array<char, 16384> buffer;
        for (;;) {
            boost::system::error_code ec;
            const auto n = co_await from->async_read_some(
                asio::buffer(buffer), asio::redirect_error(asio::use_awaitable, ec));
            if (ec) break;
            co_await asio::async_write(*to, asio::buffer(buffer.data(), n),
                                       asio::redirect_error(asio::use_awaitable, ec));
            if (ec) break;
        }
        boost::system::error_code ignored;
        from->close(ignored);
        to->close(ignored);
    }

    static asio::awaitable<void> accept_loop(tcp_relay* relay) {
        for (;;) {
            auto client = std::make_shared<tcp::socket>(relay->ctx_);
            boost::system::error_code ec;
            co_await relay->acceptor_.async_accept(*client,
                                                   asio::redirect_error(asio::use_awaitable, ec));
            if (ec) co_return;
            auto server = std::make_shared<tcp::socket>(relay->ctx_);
            const tcp::endpoint upstream(asio::ip::address_v4::loopback(), relay->upstream_.load());
            co_await server->async_connect(upstream, asio::redirect_error(asio::use_awaitable, ec));
            if (ec) continue;  // the client sees its connection closed
            relay->open_.push_back(client);
            relay->open_.push_back(server);
            asio::co_spawn(relay->ctx_, pump(client, server), asio::detached);
            asio::co_spawn(relay->ctx_, pump(server, client), asio::detached);
        }
    }
};

tcp_relay::tcp_relay(std::uint16_t upstream)
    : acceptor_(ctx_, tcp::endpoint(asio::ip::address_v4::loopback(), 0)), upstream_(upstream) {
    port_ = acceptor_.local_endpoint().port();
    asio::co_spawn(ctx_, tcp_relay_access::accept_loop(this), asio::detached);
    thread_ = std::thread([this] { ctx_.run(); });
}

tcp_relay::~tcp_relay() {
    ctx_.stop();
    thread_.join();
}

void tcp_relay::redirect(std::uint16_t upstream) {
    upstream_ = upstream;
    std::promise<void> done;
    asio::post(ctx_, [this, &done] {
        for (const auto& s : open_) {
            boost::system::error_code ignored;
            s->close(ignored);
        }
        open_.clear();
        done.set_value();
    });
    done.get_future().get();
}

}  // namespace laredo::sources::postgres::testing
