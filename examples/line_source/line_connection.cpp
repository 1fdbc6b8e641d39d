#include "line_connection.hpp"

#include "laredo/error.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

#include <fmt/format.h>

namespace laredo::examples {

namespace asio = boost::asio;
using asio::awaitable;
using asio::ip::tcp;

namespace {

constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);

// A cancelled operation stays recognisable as such; anything else is a lost connection.
[[noreturn]] void throw_io_failure(const boost::system::error_code& ec, const std::string& what) {
    if (ec == asio::error::operation_aborted) throw boost::system::system_error(ec);
    throw error(errc::transient, fmt::format("{}: {}", what, ec.message()));
}

}  // namespace

line_connection::line_connection(asio::any_io_executor executor, std::size_t max_line_bytes)
    : socket_(std::move(executor)), max_line_bytes_(max_line_bytes) {}

std::string line_connection::peer() const {
    return fmt::format("{}:{}", peer_.address().to_string(), peer_.port());
}

awaitable<void> line_connection::connect(const tcp::endpoint& to, int receive_buffer_bytes) {
    peer_ = to;
    socket_.open(to.protocol());
    // Before connect: the window scale is agreed in the handshake.
    if (receive_buffer_bytes > 0)
        socket_.set_option(asio::socket_base::receive_buffer_size(receive_buffer_bytes));
    auto [ec] = co_await socket_.async_connect(to, use_tuple);
    if (ec) {
        close();
        throw_io_failure(ec, "line source: cannot connect to " + peer());
    }
    socket_.set_option(tcp::no_delay(true));  // ACK lines are small: send them at once
}

// [guide:read-line]
awaitable<std::string> line_connection::read_line() {
    auto [ec, n] = co_await asio::async_read_until(
        socket_, asio::dynamic_buffer(buffer_, max_line_bytes_), '\n', use_tuple);
    if (ec == asio::error::not_found) {
        throw error(errc::corrupt_data, fmt::format("line source: line {} from {} is longer than "
                                                    "{} bytes",
                                                    lines_read_ + 1, peer(), max_line_bytes_));
    }
    if (ec) throw_io_failure(ec, "line source: connection to " + peer() + " lost");
    std::string line = buffer_.substr(0, n - 1);
    buffer_.erase(0, n);
    ++lines_read_;
    co_return line;
}
// [/guide:read-line]

awaitable<void> line_connection::write_line(std::string line) {
    line += '\n';
    auto [ec, n] = co_await asio::async_write(socket_, asio::buffer(line), use_tuple);
    if (ec) throw_io_failure(ec, "line source: cannot write to " + peer());
}

void line_connection::close() noexcept {
    boost::system::error_code ignored;
    socket_.shutdown(tcp::socket::shutdown_both, ignored);
    socket_.close(ignored);
}

}  // namespace laredo::examples
