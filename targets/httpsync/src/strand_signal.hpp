#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/system/system_error.hpp>

namespace laredo::targets::httpsync::detail {

// A condition variable for coroutines on one strand: wait() suspends until notify_all().
// Waiters re-check their condition after waking (a wake may be spurious). The timer's expiry
// is never moved, so one waiter re-arming cannot cancel another's wait.
class strand_signal {
  public:
    explicit strand_signal(const boost::asio::any_io_executor& executor)
        : timer_(executor, boost::asio::steady_timer::time_point::max()) {}

    // Throws operation_aborted when the waiting coroutine itself was cancelled.
    boost::asio::awaitable<void> wait() {
        boost::system::error_code ec;
        co_await timer_.async_wait(boost::asio::redirect_error(boost::asio::use_awaitable, ec));
        const auto state = co_await boost::asio::this_coro::cancellation_state;
        if (state.cancelled() != boost::asio::cancellation_type::none)
            throw boost::system::system_error(boost::asio::error::operation_aborted);
    }

    void notify_all() { timer_.cancel(); }

  private:
    boost::asio::steady_timer timer_;
};

}  // namespace laredo::targets::httpsync::detail
