#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace laredo::sources::postgres::detail {

// Wakes coroutines of one strand that wait for a condition (a flag they check in a loop): a
// timer that never expires on its own, whose waits notify() cancels. Every change of the
// condition and every wait happen on the same strand, so no notification is lost.
class strand_signal {
  public:
    explicit strand_signal(const boost::asio::any_io_executor& strand)
        : timer_(strand, boost::asio::steady_timer::time_point::max()) {}

    // Completes on notify() or when the waiting coroutine is cancelled; never throws.
    boost::asio::awaitable<void> wait() {
        boost::system::error_code ignored;
        co_await timer_.async_wait(
            boost::asio::redirect_error(boost::asio::use_awaitable, ignored));
    }

    void notify() { timer_.cancel(); }

  private:
    boost::asio::steady_timer timer_;
};

}  // namespace laredo::sources::postgres::detail
