#pragma once

// A loopback TCP relay for tests: clients connect to port() and are joined to an upstream
// port. redirect() sends new connections elsewhere and cuts the open ones, which is what a
// client sees when an address moves to another server (a failover behind a virtual IP or a
// DNS name). Runs on a thread of its own.

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

#include <atomic>
#include <cstdint>
#include <memory>
#include <thread>
#include <vector>

namespace laredo::sources::postgres::testing {

class tcp_relay {
  public:
    explicit tcp_relay(std::uint16_t upstream);
    ~tcp_relay();
    tcp_relay(const tcp_relay&) = delete;
    tcp_relay& operator=(const tcp_relay&) = delete;

    std::uint16_t port() const noexcept { return port_; }

    // New connections go to `upstream`; every open one is closed (both ends).
    void redirect(std::uint16_t upstream);

  private:
    using socket_ptr = std::shared_ptr<boost::asio::ip::tcp::socket>;
    friend struct tcp_relay_access;

    boost::asio::io_context ctx_;
    boost::asio::ip::tcp::acceptor acceptor_;
    std::uint16_t port_ = 0;
    std::atomic<std::uint16_t> upstream_;
    std::vector<socket_ptr> open_;  // touched only on the relay's thread
    std::thread thread_;
};

}  // namespace laredo::sources::postgres::testing
