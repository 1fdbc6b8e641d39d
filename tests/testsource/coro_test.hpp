#pragma once

// Helpers for coroutine tests: a fixture that runs each case on 1 and 4 threads, and what an
// awaitable threw (the assertions that co_return are laredo/testing/async.hpp's).

#include "laredo/error.hpp"
#include "laredo/testing/async.hpp"

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>

#include <gtest/gtest.h>

#include <exception>
#include <functional>
#include <string>

namespace laredo::testing {

using boost::asio::awaitable;
using boost::asio::io_context;

// Every case runs on an io_context driven by 1 and by 4 threads.
class threaded : public ::testing::TestWithParam<int> {
  protected:
    void run(std::function<awaitable<void>(io_context&)> body,
             std::chrono::milliseconds deadline = std::chrono::seconds(20)) {
        run_async(GetParam(), deadline, std::move(body));
    }
};

inline std::string thread_count_name(const ::testing::TestParamInfo<int>& info) {
    return std::to_string(info.param) + "_threads";
}

#define LAREDO_THREADED_SUITE(fixture)                                  \
    INSTANTIATE_TEST_SUITE_P(threads, fixture, ::testing::Values(1, 4), \
                             ::laredo::testing::thread_count_name)

// What a failed awaitable threw: its code and message (a default code when it did not throw).
struct failure_info {
    boost::system::error_code code;
    std::string message;
};

template <class T>
awaitable<failure_info> failure_of(awaitable<T> op) {
    try {
        co_await std::move(op);
    } catch (const boost::system::system_error& e) {
        co_return failure_info{e.code(), e.what()};
    }
    co_return failure_info{};
}

inline failure_info failure_of(const std::exception_ptr& e) {
    if (!e) return {};
    try {
        std::rethrow_exception(e);
    } catch (const boost::system::system_error& err) {
        return failure_info{err.code(), err.what()};
    } catch (const std::exception& err) {
        return failure_info{make_error_code(errc::invalid_argument), err.what()};
    }
}

}  // namespace laredo::testing
