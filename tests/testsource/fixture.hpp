#pragma once

#include "recording.hpp"

#include "laredo/error.hpp"
#include "laredo/sources/testsource/test_source.hpp"

#include <boost/asio/io_context.hpp>

#include <async_test.hpp>
#include <gtest/gtest.h>

#include <functional>
#include <map>
#include <string>
#include <vector>

namespace laredo::testing {

namespace ts = laredo::sources::testsource;
using boost::asio::awaitable;
using boost::asio::io_context;

inline const table_identifier users{"public", "users"};
inline const table_identifier orders{"public", "orders"};
// Named lists: a braced list inside a co_await statement does not compile with g++ 12.
inline const std::vector<table_identifier> just_users{users};
inline const std::vector<table_identifier> just_orders{orders};
inline const std::vector<table_identifier> users_and_orders{users, orders};
inline const std::vector<table_identifier> orders_and_users{orders, users};

// gtest's ASSERT_* return from the function, which a coroutine cannot: these co_return.
#define CO_ASSERT_TRUE(c)                                  \
    if (!(c)) {                                            \
        ADD_FAILURE() << "assertion failed: " #c;          \
        co_return;                                         \
    }
#define CO_ASSERT_EQ(a, b)                                 \
    if (!((a) == (b))) {                                   \
        EXPECT_EQ(a, b);                                   \
        co_return;                                         \
    }
#define CO_ASSERT_NE(a, b)                                 \
    if ((a) == (b)) {                                      \
        EXPECT_NE(a, b);                                   \
        co_return;                                         \
    }
#define CO_ASSERT_GE(a, b)                                 \
    if (!((a) >= (b))) {                                   \
        EXPECT_GE(a, b);                                   \
        co_return;                                         \
    }

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

#define LAREDO_THREADED_SUITE(fixture)                                                       \
    INSTANTIATE_TEST_SUITE_P(threads, fixture, ::testing::Values(1, 4),                     \
                             ::laredo::testing::thread_count_name)

// users(id, name, note), keyed by id.
inline schema_ptr add_users(ts::test_source& src) {
    return src.set_schema(users, ts::test_source::text_columns({"id", "name", "note"}));
}

inline row user(const ts::test_source& src, int id, std::string name) {
    return src.make_row(users, {{"id", id}, {"name", std::move(name)}});
}

inline source_config config_of(std::vector<table_identifier> tables) {
    return source_config{std::move(tables)};
}

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

// Applies baseline rows and then changes by key, as a target that keeps rows would (unchanged
// values keep the stored value). What the engine's memory target does, in ten lines.
class replica {
public:
    void load(const std::vector<std::pair<table_identifier, row>>& rows) {
        for (const auto& [table, r] : rows) rows_[table][r.key()] = r;
    }
    void apply(const std::vector<change_event>& events) {
        for (const auto& e : events) {
            auto& table = rows_[e.table];
            switch (e.action) {
                case change_action::insert: table[e.new_values.key()] = e.new_values; break;
                case change_action::update: {
                    const auto old = table.find(e.identity().key());
                    row merged = e.new_values;
                    for (std::size_t i = 0; i < merged.size(); ++i) {
                        if (merged[i].is_unchanged() && old != table.end()) merged.set(i, old->second[i]);
                    }
                    if (old != table.end()) table.erase(old);
                    table[merged.key()] = merged;
                    break;
                }
                case change_action::delete_: table.erase(e.old_values.key()); break;
                case change_action::truncate: table.clear(); break;
            }
        }
    }
    std::vector<row> rows(const table_identifier& t) const {
        std::vector<row> out;
        if (auto it = rows_.find(t); it != rows_.end()) {
            for (const auto& [k, r] : it->second) out.push_back(r);
        }
        return out;
    }

private:
    std::map<table_identifier, std::map<std::vector<value>, row>> rows_;
};

inline std::vector<row> rows_of(const std::vector<std::pair<table_identifier, row>>& rows) {
    std::vector<row> out;
    for (const auto& [t, r] : rows) out.push_back(r);
    return out;
}

}  // namespace laredo::testing
