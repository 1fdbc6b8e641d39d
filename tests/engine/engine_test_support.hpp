#pragma once

// Shared pieces of the engine tests: a users/orders schema on a test_source, and the
// parameterisation that runs every engine test on 1 and on 4 io_context threads.

#include "engine_events.hpp"

#include "laredo/engine.hpp"
#include "laredo/sources/testsource/test_source.hpp"
#include "laredo/testing/async.hpp"
#include "laredo/testing/recording_target.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <gtest/gtest.h>

#include <memory>
#include <stdexcept>
#include <string>

namespace laredo::testing {

using boost::asio::awaitable;
using boost::asio::use_awaitable;
using sources::testsource::step;
using sources::testsource::test_source;
using sources::testsource::test_source_options;

inline const table_identifier users{"public", "users"};
inline const table_identifier orders{"public", "orders"};

inline std::vector<column_definition> user_columns() {
    return {
        {.name = "id",
         .type = "int8",
         .nullable = false,
         .primary_key = true,
         .ordinal_position = 1,
         .primary_key_ordinal = 1},
        {.name = "name", .type = "text", .ordinal_position = 2},
        {.name = "status", .type = "text", .ordinal_position = 3},
    };
}

inline std::vector<column_definition> order_columns() {
    return {
        {.name = "id",
         .type = "int8",
         .nullable = false,
         .primary_key = true,
         .ordinal_position = 1,
         .primary_key_ordinal = 1},
        {.name = "user_id", .type = "int8", .ordinal_position = 2},
        {.name = "total", .type = "float8", .ordinal_position = 3},
    };
}

inline row user(const test_source& src, std::int64_t id, std::string name,
                std::string status = "active") {
    return src.make_row(users, {{"id", value(id)},
                                {"name", value(std::move(name))},
                                {"status", value(std::move(status))}});
}

inline row user_key(const test_source& src, std::int64_t id) {
    return src.make_row(users, {{"id", value(id)}});
}

inline row order(const test_source& src, std::int64_t id, std::int64_t user_id, double total) {
    return src.make_row(orders,
                        {{"id", value(id)}, {"user_id", value(user_id)}, {"total", value(total)}});
}

inline std::vector<value> key(std::int64_t id) { return {value(id)}; }

// Every engine a test builds reports to an engine_events (or to an observer derived from it,
// given with with_observer / engine_options::observer), so the test waits on the engine's
// reports instead of polling.
inline engine::builder test_builder() {
    engine::builder b;
    b.with_observer(std::make_shared<engine_events>());
    return b;
}

inline engine_events& events_of(const engine& eng) {
    auto* events = dynamic_cast<engine_events*>(eng.options().observer.get());
    if (!events) throw std::logic_error("the engine was not built with an engine_events observer");
    return *events;
}

// Completes with true once `condition` holds, checked at once and after each report of the
// engine; false after `limit`.
inline awaitable<bool> until(const engine& eng, std::function<bool()> condition,
                             std::chrono::milliseconds limit = std::chrono::seconds(10)) {
    return events_of(eng).until(std::move(condition), limit);
}

// Every engine test runs with the io_context driven by 1 and by 4 threads.
class engine_test : public ::testing::TestWithParam<int> {
  protected:
    int threads() const { return GetParam(); }
    void run(std::function<awaitable<void>(boost::asio::io_context&)> body,
             std::chrono::milliseconds deadline = std::chrono::seconds(30)) {
        run_async(threads(), deadline, std::move(body));
    }
};

inline std::string thread_suffix(const ::testing::TestParamInfo<int>& info) {
    return std::to_string(info.param) + "_threads";
}

}  // namespace laredo::testing
