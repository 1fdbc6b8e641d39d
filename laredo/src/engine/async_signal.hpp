#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace laredo::detail {

// A condition variable for coroutines on one strand: waiters suspend until notify_all().
// Waiters re-check their condition in a loop (a wake-up may be spurious), and since every
// state change and every wait happens on the same strand, no notification is lost.
//
// The timer's expiry is set once, to never; wait() only adds a waiter (resetting the expiry
// would cancel the other waiters), and notify_all() cancels every pending wait.
class async_signal {
  public:
    explicit async_signal(const boost::asio::any_io_executor& strand)
        : timer_(strand, boost::asio::steady_timer::time_point::max()) {}

    // Completes on notify_all() or cancellation; never throws for either. Callers check the
    // coroutine's cancellation state afterwards when it matters.
    boost::asio::awaitable<void> wait() {
        boost::system::error_code ignored;
        co_await timer_.async_wait(
            boost::asio::redirect_error(boost::asio::use_awaitable, ignored));
    }

    void notify_all() { timer_.cancel(); }

  private:
    boost::asio::steady_timer timer_;
};

}  // namespace laredo::detail
