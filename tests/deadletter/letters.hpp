#pragma once

// Helpers for the dead-letter tests: a temporary directory, letters with every kind of value,
// and a check that a letter came back whole.

#include "laredo/dead_letter_store.hpp"

#include "temp_dir.hpp"

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <limits>
#include <string>

namespace laredo::deadletter::testing {

// A fresh directory, removed with its contents.
class temp_dir : public laredo::testing::temp_dir {
  public:
    temp_dir() : laredo::testing::temp_dir("laredo-deadletter") {}
};

inline column_definition column(std::string name, std::string type, int key = 0) {
    column_definition c;
    c.name = std::move(name);
    c.type = std::move(type);
    c.primary_key = key > 0;
    c.primary_key_ordinal = key;
    return c;
}

inline schema_ptr users_schema() {
    static const auto schema = row_schema::make({column("id", "int8", 1), column("name", "text")});
    return schema;
}

// A small letter for pipeline `pipeline`: an insert of (id, name).
inline dead_letter letter(std::string pipeline, std::int64_t id, std::string name = "ann") {
    dead_letter l;
    l.pipeline_id = std::move(pipeline);
    l.written_at = std::chrono::system_clock::time_point{std::chrono::seconds(1'700'000'000 + id)};
    l.change.table = {"public", "users"};
    l.change.action = change_action::insert;
    l.change.timestamp = l.written_at;
    l.change.transaction_id = static_cast<std::uint64_t>(id);
    l.change.new_values = row(users_schema(), {value(id), value(std::move(name))});
    l.position = "0/16B3748:" + std::to_string(id);
    l.error_code = "laredo:target_failed";
    l.error_message = "target refused row " + std::to_string(id);
    l.attempts = 3;
    return l;
}

// An update whose rows hold every kind of value, unchanged TOAST values included.
inline dead_letter letter_with_every_kind_of_value(std::string pipeline) {
    using namespace std::chrono;
    const auto schema = row_schema::make({
        column("id", "int4", 1),
        column("flag", "bool"),
        column("big", "int8"),
        column("ratio", "float8"),
        column("amount", "numeric"),
        column("name", "text"),
        column("blob", "bytea"),
        column("day", "date"),
        column("at", "time"),
        column("ts", "timestamp"),
        column("tstz", "timestamptz"),
        column("span", "interval"),
        column("doc", "jsonb"),
        column("tags", "_int4"),
        column("raw", "text"),
        column("big_doc", "text"),
        column("gone", "text"),
        column("odd", "varchar"),
    });
    dead_letter l;
    l.pipeline_id = std::move(pipeline);
    l.written_at = system_clock::time_point{nanoseconds(1'704'164'645'123'456'789)};
    l.change.table = {"public", "wide"};
    l.change.action = change_action::update;
    l.change.timestamp = l.written_at;
    l.change.commit_timestamp = system_clock::time_point{microseconds(1'704'164'645'000'000)};
    l.change.transaction_id = 4'000'000'000;
    l.change.ends_transaction = false;
    l.change.new_values = row(
        schema,
        {
            value(std::int64_t{1}), value(false), value(std::numeric_limits<std::int64_t>::max()),
            value(-std::numeric_limits<double>::infinity()), value(numeric_value{"-0.000001"}),
            value("caf\xC3\xA9"), value(bytes_value{std::string("\0\x01\xFF", 3)}),
            value(date_value{date_value::plus_infinity}), value(time_value{1}),
            value(timestamp_value{-1}), value(timestamptz_value{timestamptz_value::minus_infinity}),
            value(interval_value{"-1 days +02:03:04"}), value(json_value{R"({"k": [1, 2.50]})"}),
            value(array_value{"{1,NULL}"}), value(std::string("not \xFF utf-8\0", 13)),
            value::unchanged(), value(null_value{}),
            value(0.25),  // a double in a varchar column
        });
    std::vector<value> old(schema->size(), value::unchanged());
    old[0] = value(std::int64_t{1});
    l.change.old_values = row(schema, std::move(old));
    l.position = "0/16B3748:7";
    l.error_code = "system:28";
    l.error_message = "No space left on device";
    l.attempts = 5;
    return l;
}

inline void expect_same_letter(const dead_letter& a, const dead_letter& b) {
    EXPECT_EQ(a.sequence, b.sequence);
    EXPECT_EQ(a.pipeline_id, b.pipeline_id);
    EXPECT_EQ(a.written_at, b.written_at);
    EXPECT_EQ(a.position, b.position);
    EXPECT_EQ(a.error_code, b.error_code);
    EXPECT_EQ(a.error_message, b.error_message);
    EXPECT_EQ(a.attempts, b.attempts);
    EXPECT_EQ(a.change.table, b.change.table);
    EXPECT_EQ(a.change.action, b.change.action);
    EXPECT_EQ(a.change.timestamp, b.change.timestamp);
    EXPECT_EQ(a.change.commit_timestamp, b.change.commit_timestamp);
    EXPECT_EQ(a.change.transaction_id, b.change.transaction_id);
    EXPECT_EQ(a.change.ends_transaction, b.change.ends_transaction);
    EXPECT_EQ(a.change.new_values, b.change.new_values);
    EXPECT_EQ(a.change.old_values, b.change.old_values);
    EXPECT_TRUE(b.change.pos.empty());
}

template <class F>
std::pair<boost::system::error_code, std::string> failure_of(F&& f) {
    try {
        f();
    } catch (const laredo::error& e) {
        return {e.code(), e.what()};
    }
    ADD_FAILURE() << "no laredo::error thrown";
    return {};
}

}  // namespace laredo::deadletter::testing
