#pragma once

// Waiting on the engine instead of polling: an observer that wakes the test's waits on every
// report the engine makes. A wait checks its condition at once and again after each report
// (a change applied, an ACK, a state change, a snapshot...), and gives up after its limit.
// Tests build their engine with it (directly, or under another observer they need) and wait
// with `co_await events->until([&] { return ...; })`. A few things a test may wait for are
// not reported (a target's position after a heartbeat): for those a wait also re-checks every
// `fallback` (100 ms), so it never depends on a report that does not come.

#include "laredo/observer.hpp"

#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <algorithm>
#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <vector>

namespace laredo::testing {

class engine_events : public engine_observer {
  public:
    // Completes with true once `condition` holds (checked now and after every engine
    // report), false when `limit` passes first. `condition` must be safe to call from the
    // waiting coroutine's thread while the engine runs.
    boost::asio::awaitable<bool> until(std::function<bool()> condition,
                                       std::chrono::milliseconds limit = std::chrono::seconds(10)) {
        auto ex = co_await boost::asio::this_coro::executor;
        auto w = std::make_shared<waiter>(boost::asio::make_strand(ex),
                                          std::chrono::steady_clock::now() + limit);
        {
            std::lock_guard lock(mutex_);
            waiters_.push_back(w);
        }
        // The check and the wait run on the waiter's strand, where wakes are posted: a wake
        // either finds the wait pending (and ends it) or comes before the next check.
        const bool held = co_await boost::asio::co_spawn(w->strand, wait(w, std::move(condition)),
                                                         boost::asio::use_awaitable);
        {
            std::lock_guard lock(mutex_);
            std::erase(waiters_, w);
        }
        co_return held;
    }

    // Wakes the waits for something the engine does not report (a test's own callback ran).
    void notify() { wake(); }

    // How many reports the engine made (a wait can also be for "something happened").
    std::size_t reports() const {
        std::lock_guard lock(mutex_);
        return reports_;
    }

#define LAREDO_WAKE(name, params) \
    void name params override { wake(); }
    LAREDO_WAKE(on_source_connected, (const std::string&, const std::string&))
    LAREDO_WAKE(on_source_disconnected, (const std::string&, const std::string&))
    LAREDO_WAKE(on_rebaseline_triggered, (const std::string&, const std::string&))
    LAREDO_WAKE(on_ack_advanced, (const std::string&, const position&))
    LAREDO_WAKE(on_lag_updated, (const std::string&, const lag_info&))
    LAREDO_WAKE(on_schema_change, (const std::string&, const table_identifier&, const std::string&))
    LAREDO_WAKE(on_pipeline_state_changed, (const std::string&, pipeline_state, pipeline_state))
    LAREDO_WAKE(on_baseline_started, (const std::string&, const table_identifier&))
    LAREDO_WAKE(on_baseline_estimate, (const std::string&, const table_identifier&, std::uint64_t))
    LAREDO_WAKE(on_baseline_row_loaded,
                (const std::string&, const table_identifier&, std::uint64_t))
    LAREDO_WAKE(on_baseline_completed,
                (const std::string&, const table_identifier&, std::uint64_t, duration))
    LAREDO_WAKE(on_change_received,
                (const std::string&, const table_identifier&, change_action, const position&))
    LAREDO_WAKE(on_change_applied,
                (const std::string&, const table_identifier&, change_action, duration))
    LAREDO_WAKE(on_change_error,
                (const std::string&, const table_identifier&, change_action, const std::string&))
    LAREDO_WAKE(on_buffer_depth_changed, (const std::string&, std::size_t, std::size_t))
    LAREDO_WAKE(on_buffer_policy_triggered, (const std::string&, buffer_policy))
    LAREDO_WAKE(on_dead_letter_written,
                (const std::string&, const table_identifier&, change_action))
    LAREDO_WAKE(on_row_expired, (const std::string&, const table_identifier&, const std::string&))
    LAREDO_WAKE(on_validation_result,
                (const std::string&, const table_identifier&, std::uint64_t, std::uint64_t, bool))
    LAREDO_WAKE(on_snapshot_started, (const std::string&))
    LAREDO_WAKE(on_snapshot_completed,
                (const std::string&, std::size_t, std::uint64_t, std::uint64_t, duration))
    LAREDO_WAKE(on_snapshot_failed, (const std::string&, const std::string&))
    LAREDO_WAKE(on_snapshot_restore_started, (const std::string&))
    LAREDO_WAKE(on_snapshot_restore_completed, (const std::string&, std::uint64_t, duration))
#undef LAREDO_WAKE

  private:
    struct waiter {
        waiter(boost::asio::strand<boost::asio::any_io_executor> s,
               std::chrono::steady_clock::time_point until)
            : strand(std::move(s)), timer(strand), deadline(until) {}
        boost::asio::strand<boost::asio::any_io_executor> strand;
        boost::asio::steady_timer timer;
        std::chrono::steady_clock::time_point deadline;
    };

    static constexpr std::chrono::milliseconds fallback{100};

    static boost::asio::awaitable<bool> wait(std::shared_ptr<waiter> w,
                                             std::function<bool()> condition) {
        while (!condition()) {
            const auto now = std::chrono::steady_clock::now();
            if (now >= w->deadline) co_return condition();
            w->timer.expires_at(std::min(w->deadline, now + fallback));
            boost::system::error_code ignored;  // a wake cancels the wait; the loop re-checks
            co_await w->timer.async_wait(
                boost::asio::redirect_error(boost::asio::use_awaitable, ignored));
        }
        co_return true;
    }

    void wake() {
        std::lock_guard lock(mutex_);
        ++reports_;
        for (const auto& w : waiters_) boost::asio::post(w->strand, [w] { w->timer.cancel(); });
    }

    mutable std::mutex mutex_;
    std::vector<std::shared_ptr<waiter>> waiters_;
    std::size_t reports_ = 0;
};

}  // namespace laredo::testing
