#pragma once

// Runs a coroutine test body on a real io_context driven by N threads, with a deadline, and
// rethrows whatever the body threw. Engine tests run each case on 1 and on 4 threads.

#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
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

// Runs `body(ctx)` to completion on `threads` threads. Fails the test (and stops the
// context) when it takes longer than `deadline`.
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

// Polls `condition` every millisecond until it holds or `limit` passes; returns whether it held.
inline boost::asio::awaitable<bool> eventually(std::function<bool()> condition,
                                               std::chrono::milliseconds limit = 5000ms) {
    const auto until = std::chrono::steady_clock::now() + limit;
    while (!condition()) {
        if (std::chrono::steady_clock::now() > until) co_return false;
        co_await sleep_for(1ms);
    }
    co_return true;
}

}  // namespace laredo::testing
