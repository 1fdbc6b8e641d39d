#pragma once

// Tables, rows and changes for the fan-out tests.

#include "laredo/change_event.hpp"
#include "laredo/row.hpp"
#include "laredo/table_identifier.hpp"
#include "laredo/testing/async.hpp"

#include <cstdint>
#include <string>
#include <vector>

namespace laredo::fanout_test {

inline const table_identifier accounts{"app", "accounts"};

// accounts(tenant text, id int8, region text, name text, notes text): key (tenant, id).
inline schema_ptr accounts_schema() {
    static const schema_ptr s = row_schema::make({
        {.name = "tenant",
         .type = "text",
         .nullable = false,
         .primary_key = true,
         .ordinal_position = 1,
         .primary_key_ordinal = 1},
        {.name = "id",
         .type = "int8",
         .nullable = false,
         .primary_key = true,
         .ordinal_position = 2,
         .primary_key_ordinal = 2},
        {.name = "region", .type = "text", .ordinal_position = 3},
        {.name = "name", .type = "text", .ordinal_position = 4},
        {.name = "notes", .type = "text", .ordinal_position = 5},
    });
    return s;
}

inline row account(std::string tenant, std::int64_t id, value region, value name = value("n"),
                   value notes = value()) {
    return row(accounts_schema(), {value(std::move(tenant)), value(id), std::move(region),
                                   std::move(name), std::move(notes)});
}

inline change_event change(change_action action, std::uint64_t pos, row new_values,
                           row old_values = {}, bool ends = true) {
    change_event c;
    c.table = accounts;
    c.action = action;
    c.pos = position::from_sequence(pos);
    c.timestamp = std::chrono::system_clock::now();
    c.ends_transaction = ends;
    c.new_values = std::move(new_values);
    c.old_values = std::move(old_values);
    return c;
}

inline change_event insert(std::uint64_t pos, row r, bool ends = true) {
    return change(change_action::insert, pos, std::move(r), {}, ends);
}
inline change_event update(std::uint64_t pos, row r, row old = {}, bool ends = true) {
    return change(change_action::update, pos, std::move(r), std::move(old), ends);
}
inline change_event remove(std::uint64_t pos, row identity, bool ends = true) {
    return change(change_action::delete_, pos, {}, std::move(identity), ends);
}
inline change_event truncate(std::uint64_t pos, bool ends = true) {
    return change(change_action::truncate, pos, {}, {}, ends);
}

}  // namespace laredo::fanout_test
