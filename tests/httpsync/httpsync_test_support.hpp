#pragma once

// Shared pieces of the HTTP sync tests: a users table, changes, options pointing at a test
// server, and reading back what the server received (every body checked against its schema).

#include "schema_check.hpp"
#include "test_server.hpp"

#include "laredo/json/values.hpp"
#include "laredo/targets/httpsync/http_sync_target.hpp"
#include "laredo/testing/async.hpp"

#include <boost/json/value.hpp>

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

namespace laredo::testing::httpsync {

using namespace std::chrono_literals;
using targets::httpsync::http_sync_options;
using targets::httpsync::http_sync_target;

// ASSERT_* cannot be used inside a coroutine (it returns void): this one co_returns.
#define HS_CO_ASSERT(cond)                               \
    do {                                                 \
        if (!(cond)) {                                   \
            ADD_FAILURE() << "assertion failed: " #cond; \
            co_return;                                   \
        }                                                \
    } while (false)

inline const table_identifier users{"public", "users"};

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

inline schema_ptr user_schema() {
    static const schema_ptr schema = row_schema::make(user_columns());
    return schema;
}

inline row user_row(std::int64_t id, std::string name, std::string status = "active") {
    return row(user_schema(), {value(id), value(std::move(name)), value(std::move(status))});
}

// A change of its own transaction (ends_transaction) at sequence position `pos`.
inline change_event insert_change(std::uint64_t pos, std::int64_t id, std::string name = "u",
                                  bool ends = true, std::uint64_t tx = 0) {
    change_event c;
    c.table = users;
    c.action = change_action::insert;
    c.pos = position::from_sequence(pos);
    c.transaction_id = tx ? tx : pos;
    c.ends_transaction = ends;
    c.commit_timestamp = std::chrono::system_clock::time_point(std::chrono::seconds(1700000000));
    c.new_values = user_row(id, std::move(name));
    return c;
}

// Options that fail fast: short timeouts, retries 1 ms apart.
inline http_sync_options fast_options(const test_server& server) {
    http_sync_options o;
    o.base_url = server.url() + "/hooks";
    o.flush_interval = 20ms;
    o.connect_timeout = 2s;
    o.request_timeout = 2s;
    o.retry_initial_backoff = 1ms;
    o.retry_max_backoff = 5ms;
    o.max_retries = 3;
    return o;
}

// Every request the server received validates against the schema of its path (the part
// after "/hooks"); returns how many were checked.
inline std::size_t expect_all_valid(const test_server& server) {
    std::size_t n = 0;
    for (const auto& r : server.requests()) {
        const auto path = r.target.substr(r.target.find("/hooks") + 6);
        if (r.body.empty()) continue;  // cut off before its body was read
        EXPECT_VALID_PAYLOAD(path, r.body);
        ++n;
    }
    return n;
}

// The paths the server received, without the prefix, in order.
inline std::vector<std::string> paths(const test_server& server) {
    std::vector<std::string> out;
    for (const auto& r : server.requests())
        out.push_back(r.target.substr(r.target.find("/hooks") + 6));
    return out;
}

// The changes of every /changes body received (retries of a batch counted once per body).
inline std::vector<boost::json::object> received_changes(const test_server& server,
                                                         bool distinct_bodies = true) {
    std::vector<boost::json::object> out;
    std::vector<std::string> seen;
    for (const auto& r : server.requests_to("/changes")) {
        if (r.body.empty()) continue;
        if (distinct_bodies) {
            if (std::find(seen.begin(), seen.end(), r.body) != seen.end()) continue;
            seen.push_back(r.body);
        }
        const auto body = laredo::json::parse(r.body);
        for (const auto& c : body.as_array()) out.push_back(c.as_object());
    }
    return out;
}

// The sizes of each /changes body received.
inline std::vector<std::size_t> batch_sizes(const test_server& server) {
    std::vector<std::size_t> out;
    for (const auto& r : server.requests_to("/changes"))
        if (!r.body.empty()) out.push_back(laredo::json::parse(r.body).as_array().size());
    return out;
}

}  // namespace laredo::testing::httpsync
