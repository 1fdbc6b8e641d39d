#pragma once

// Tables, rows and change events for the memory target tests.

#include "laredo/change_event.hpp"
#include "laredo/position.hpp"
#include "laredo/row.hpp"
#include "laredo/sync_target.hpp"
#include "laredo/table_identifier.hpp"
#include "laredo/testing/async.hpp"

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <utility>
#include <vector>

namespace laredo::memory_test {

inline const table_identifier users_table{"public", "users"};

// users(id int8 key, name text, email text, team text, bio text)
inline schema_ptr users_schema() {
    static const schema_ptr s = row_schema::make({
        {.name = "id",
         .type = "int8",
         .primary_key = true,
         .ordinal_position = 1,
         .primary_key_ordinal = 1},
        {.name = "name", .type = "text", .ordinal_position = 2},
        {.name = "email", .type = "text", .ordinal_position = 3},
        {.name = "team", .type = "text", .ordinal_position = 4},
        {.name = "bio", .type = "text", .ordinal_position = 5},
    });
    return s;
}

inline row user(std::int64_t id, value name, value email = value(), value team = value(),
                value bio = value()) {
    return row(users_schema(),
               {value(id), std::move(name), std::move(email), std::move(team), std::move(bio)});
}

// A row of `schema` with the given values in column order.
inline row make_row(const schema_ptr& schema, std::vector<value> values) {
    return row(schema, std::move(values));
}

inline change_event insert_of(row r, std::uint64_t pos = 0, bool ends = true) {
    change_event c;
    c.table = users_table;
    c.action = change_action::insert;
    c.pos = position::from_sequence(pos);
    c.ends_transaction = ends;
    c.new_values = std::move(r);
    return c;
}

// An update; `old_values` empty means "the key did not change" (identity = new row).
inline change_event update_of(row new_values, row old_values = {}, std::uint64_t pos = 0,
                              bool ends = true) {
    change_event c;
    c.table = users_table;
    c.action = change_action::update;
    c.pos = position::from_sequence(pos);
    c.ends_transaction = ends;
    c.new_values = std::move(new_values);
    c.old_values = std::move(old_values);
    return c;
}

inline change_event delete_of(row identity, std::uint64_t pos = 0, bool ends = true) {
    change_event c;
    c.table = users_table;
    c.action = change_action::delete_;
    c.pos = position::from_sequence(pos);
    c.ends_transaction = ends;
    c.old_values = std::move(identity);
    return c;
}

inline change_event truncate_of(std::uint64_t pos = 0) {
    change_event c;
    c.table = users_table;
    c.action = change_action::truncate;
    c.pos = position::from_sequence(pos);
    return c;
}

// Only the key of a users row, as PostgreSQL sends the old tuple of a key change or delete.
inline row user_key(std::int64_t id) { return user(id, value()); }

// Runs `body` (which calls the target's coroutines) to completion on an io_context.
inline void drive(std::function<boost::asio::awaitable<void>()> body) {
    laredo::testing::run_async(1, std::chrono::seconds(60),
                               [&](boost::asio::io_context&) { return body(); });
}

inline void init(sync_target& t, schema_ptr schema = users_schema(),
                 const table_identifier& table = users_table) {
    drive([&]() -> boost::asio::awaitable<void> { co_await t.on_init(table, schema); });
}

// Baseline rows, without completing the baseline.
inline void baseline_rows(sync_target& t, std::vector<row> rows,
                          const table_identifier& table = users_table) {
    drive([&]() -> boost::asio::awaitable<void> { co_await t.on_baseline_rows(table, rows); });
}

inline void baseline_complete(sync_target& t, std::uint64_t pos,
                              const table_identifier& table = users_table) {
    drive([&]() -> boost::asio::awaitable<void> {
        co_await t.on_baseline_complete(table, position::from_sequence(pos));
    });
}

// A whole baseline: the rows, then completion at `pos`.
inline void baseline(sync_target& t, std::vector<row> rows, std::uint64_t pos = 1,
                     const table_identifier& table = users_table) {
    baseline_rows(t, std::move(rows), table);
    baseline_complete(t, pos, table);
}

inline void apply(sync_target& t, std::vector<change_event> changes,
                  const table_identifier& table = users_table) {
    drive([&]() -> boost::asio::awaitable<void> { co_await t.on_changes(table, changes); });
}

inline void begin_rebuild(sync_target& t, const table_identifier& table = users_table) {
    drive([&]() -> boost::asio::awaitable<void> { co_await t.begin_rebuild(table); });
}

inline void commit_rebuild(sync_target& t, const table_identifier& table = users_table) {
    drive([&]() -> boost::asio::awaitable<void> { co_await t.commit_rebuild(table); });
}

inline std::vector<row> export_rows(sync_target& t, const table_identifier& table = users_table) {
    std::vector<row> out;
    drive([&]() -> boost::asio::awaitable<void> { out = co_await t.export_snapshot(table); });
    return out;
}

inline void restore(sync_target& t, std::vector<row> rows, std::uint64_t pos,
                    const table_identifier& table = users_table) {
    table_snapshot_info info;
    info.table = table;
    info.row_count = rows.size();
    drive([&]() -> boost::asio::awaitable<void> {
        co_await t.restore_snapshot(info, std::move(rows), position::from_sequence(pos));
    });
}

inline schema_change_response schema_change(sync_target& t, const row_schema& old_schema,
                                            const row_schema& new_schema,
                                            const table_identifier& table = users_table) {
    schema_change_response out;
    drive([&]() -> boost::asio::awaitable<void> {
        out = co_await t.on_schema_change(table, old_schema, new_schema);
    });
    return out;
}

}  // namespace laredo::memory_test
