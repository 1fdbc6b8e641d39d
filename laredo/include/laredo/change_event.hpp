#pragma once

#include "laredo/position.hpp"
#include "laredo/row.hpp"
#include "laredo/table_identifier.hpp"
#include "laredo/types.hpp"

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

namespace laredo {

// One change of one row (or one table, for truncate).
//
// new_values is set for insert and update; old_values for update and delete when the source
// has them (PostgreSQL sends the key columns only, unless REPLICA IDENTITY FULL). Columns the
// source did not resend hold value::unchanged().
//
// Changes travel in batches; `ends_transaction` marks the last change of a transaction (its
// commit), so targets can apply a transaction as a whole.
struct change_event {
    table_identifier table;
    change_action action = change_action::insert;
    position pos;
    std::chrono::system_clock::time_point timestamp{};  // when the source saw it
    std::optional<std::chrono::system_clock::time_point> commit_timestamp;
    std::uint64_t transaction_id = 0;  // 0 = unknown
    bool ends_transaction = true;
    row new_values;
    row old_values;

    // The row that identifies the changed row: old values when present, else new values.
    const row& identity() const noexcept { return old_values.empty() ? new_values : old_values; }

    std::string debug_string() const;
};

}  // namespace laredo
