#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>

#include <cstddef>
#include <cstdint>
#include <string>

namespace laredo::examples {

// One TCP connection that speaks in lines. Every operation runs on the executor it was made
// with (the source's strand) and honours the cancellation of the coroutine awaiting it.
//
// Errors: laredo::error with errc::transient when the connection fails or is lost (the engine
// reconnects), errc::corrupt_data for a line longer than max_line_bytes; a cancelled
// operation throws boost::system::system_error(operation_aborted).
class line_connection {
  public:
    line_connection(boost::asio::any_io_executor executor, std::size_t max_line_bytes);

    // receive_buffer_bytes > 0 sets SO_RCVBUF before connecting: how much the kernel holds
    // for us while we are not reading (0: the system's default, which grows on its own).
    boost::asio::awaitable<void> connect(const boost::asio::ip::tcp::endpoint& to,
                                         int receive_buffer_bytes = 0);

    // The next line, without its "\n". Suspends until a whole line has arrived. The socket is
    // read only while someone awaits this: that is what lets TCP push back on the sender.
    boost::asio::awaitable<std::string> read_line();

    // Sends `line` and "\n". At most one write at a time (one read may run beside it).
    boost::asio::awaitable<void> write_line(std::string line);

    // How many lines read_line returned: the number of the last one, for error messages.
    std::uint64_t lines_read() const noexcept { return lines_read_; }
    std::string peer() const;

    bool is_open() const noexcept { return socket_.is_open(); }
    // Closes the socket; a read or write in flight completes with operation_aborted.
    void close() noexcept;

  private:
    boost::asio::ip::tcp::socket socket_;
    boost::asio::ip::tcp::endpoint peer_;
    std::string buffer_;  // bytes received and not yet returned as lines
    std::size_t max_line_bytes_;
    std::uint64_t lines_read_ = 0;
};

}  // namespace laredo::examples
