#pragma once

// Waiting, in the tests of a source or a target (GoogleTest; laredo-testing brings it):
//
//   run_async(threads, deadline, body)  runs a coroutine test body on a real io_context driven
//                                       by `threads` threads, failing the test past `deadline`
//   co_await eventually(condition)      polls, inside a coroutine, until `condition` holds
//   wait_until(condition)               the same from a plain thread (blocks it)
//   CO_ASSERT_TRUE(c), CO_ASSERT_EQ(a, b), CO_ASSERT_NE, CO_ASSERT_GE
//                                       gtest's ASSERT_* return from the function, which a
//                                       coroutine cannot: these report and co_return
//
// Conditions are polled, not timed: a test waits for what it expects to happen, bounded by a
// limit that only a broken program reaches.

#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <exception>
#include <functional>
#include <thread>
#include <vector>

namespace laredo::testing {

using namespace std::chrono_literals;

// Runs `body(ctx)` to completion on `threads` threads and rethrows what it threw. Fails the
// test (and stops the context) when it takes longer than `deadline`.
inline void run_async(int threads, std::chrono::milliseconds deadline,
                      std::function<boost::asio::awaitable<void>(boost::asio::io_context&)> body) {
    boost::asio::io_context ctx(threads);
    std::exception_ptr failure;
    std::atomic<bool> done{false};
    boost::asio::co_spawn(ctx, body(ctx), [&](std::exception_ptr e) {
        failure = e;
        done = true;
        ctx.stop();
    });
    boost::asio::steady_timer watchdog(ctx, deadline);
    watchdog.async_wait([&](boost::system::error_code ec) {
        if (!ec && !done) ctx.stop();
    });
    std::vector<std::thread> pool;
    for (int i = 1; i < threads; ++i) pool.emplace_back([&] { ctx.run(); });
    ctx.run();
    for (auto& t : pool) t.join();
    if (!done) {
        ADD_FAILURE() << "async test did not finish within " << deadline.count() << " ms";
        return;
    }
    if (failure) std::rethrow_exception(failure);
}

// Sleeps inside a coroutine.
inline boost::asio::awaitable<void> sleep_for(std::chrono::milliseconds d) {
    boost::asio::steady_timer t(co_await boost::asio::this_coro::executor, d);
    co_await t.async_wait(boost::asio::use_awaitable);
}

// Polls `condition` every millisecond until it holds or `limit` passes; returns whether it
// held (looking once more at the limit). The coroutine yields between polls, so the code it waits
// for runs meanwhile.
inline boost::asio::awaitable<bool> eventually(std::function<bool()> condition,
                                               std::chrono::milliseconds limit = 5000ms) {
    const auto until = std::chrono::steady_clock::now() + limit;
    while (!condition()) {
        if (std::chrono::steady_clock::now() >= until) co_return condition();
        co_await sleep_for(1ms);
    }
    co_return true;
}

// The same from a thread that runs no io_context (a test's main thread): blocks it.
inline bool wait_until(const std::function<bool()>& condition,
                       std::chrono::milliseconds limit = 30s) {
    const auto until = std::chrono::steady_clock::now() + limit;
    while (!condition()) {
        if (std::chrono::steady_clock::now() > until) return false;
        std::this_thread::sleep_for(10ms);
    }
    return true;
}

}  // namespace laredo::testing

#define CO_ASSERT_TRUE(c)                             \
    do {                                              \
        if (!(c)) {                                   \
            ADD_FAILURE() << "assertion failed: " #c; \
            co_return;                                \
        }                                             \
    } while (false)
#define CO_ASSERT_EQ(a, b)   \
    do {                     \
        if (!((a) == (b))) { \
            EXPECT_EQ(a, b); \
            co_return;       \
        }                    \
    } while (false)
#define CO_ASSERT_NE(a, b)   \
    do {                     \
        if ((a) == (b)) {    \
            EXPECT_NE(a, b); \
            co_return;       \
        }                    \
    } while (false)
#define CO_ASSERT_GE(a, b)   \
    do {                     \
        if (!((a) >= (b))) { \
            EXPECT_GE(a, b); \
            co_return;       \
        }                    \
    } while (false)
