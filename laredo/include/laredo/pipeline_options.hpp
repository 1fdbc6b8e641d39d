#pragma once

#include "laredo/row.hpp"
#include "laredo/table_identifier.hpp"
#include "laredo/types.hpp"

#include <chrono>
#include <cstddef>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace laredo {

// Decides whether a row belongs in the target. Filters of a pipeline are AND-ed.
using row_filter = std::function<bool(const table_identifier&, const row&)>;

// Rewrites a row on its way to the target, or drops it (nullopt). Transforms of a pipeline
// run in order. A transform must keep the key columns (the target finds rows by them).
using row_transform = std::function<std::optional<row>(const table_identifier&, row)>;

// When a row expires, or nullopt for never. Evaluated on the row as the target stores it
// (after transforms).
using row_expiry = std::function<std::optional<std::chrono::system_clock::time_point>(const row&)>;

// What a validation mismatch does.
enum class validation_action : std::uint8_t {
    warn,        // report it (observer) and go on
    rebaseline,  // report it and reload the table
};

// How one pipeline (source table -> filters/transforms -> target) runs. Defaults follow the
// Go original.
struct pipeline_options {
    std::vector<row_filter> filters;
    std::vector<row_transform> transforms;

    // The buffer between the source and the target, bounded in changes and in bytes (values'
    // raw bytes). A batch larger than the buffer is accepted when the buffer is empty.
    std::size_t buffer_size = 10'000;
    std::size_t buffer_bytes = 64u << 20;
    buffer_policy buffer = buffer_policy::block;

    // A change that fails is retried max_retries times with exponential backoff, then the
    // error policy applies.
    error_policy on_error = error_policy::isolate;
    int max_retries = 5;
    std::chrono::milliseconds retry_initial_backoff{100};
    std::chrono::milliseconds retry_max_backoff{5000};

    // A pipeline that went to ERROR under error policy isolate, or that dropped changes
    // (buffer policies drop_oldest / error), recovers by reloading its table. With
    // recover_after > 0 the engine does it by itself after that long, doubling the wait after
    // each recovery that fails again, up to recover_max_backoff. 0: only async_reload does.
    std::chrono::milliseconds recover_after{0};
    std::chrono::milliseconds recover_max_backoff{300'000};

    // Time to live. A row expires at the time ttl_function returns, or else at the value of
    // column ttl_field (a timestamp/timestamptz value, or RFC 3339 text; anything else never
    // expires). Expired rows are skipped at baseline and insert; an update that expires a row
    // deletes it. With ttl_scan_interval > 0, a scanner removes stored rows as they expire
    // (the target must keep rows) and reports each to the observer.
    std::string ttl_field;
    row_expiry ttl_function;
    std::chrono::milliseconds ttl_scan_interval{0};

    // Validation compares the rows the pipeline expects (what the source sent through the
    // filters) with the target's row_count(): after each baseline when the target can count,
    // and every validation_interval (0 = off; needs a target that keeps rows).
    std::chrono::milliseconds validation_interval{0};
    validation_action on_validation_mismatch = validation_action::warn;

    // Overrides the generated id "source:schema.table:target_type".
    std::string id;
};

// Built-in filters and transforms (the Go set).
namespace filters {
// The column equals `v` (type and value, as value equality).
row_filter field_equals(std::string column, value v);
// The column is text starting with `prefix`.
row_filter field_prefix(std::string column, std::string prefix);
// The column is text matching the ECMAScript regular expression (whole-value search).
row_filter field_regex(std::string column, const std::string& pattern);
}  // namespace filters

std::string_view to_string(validation_action a) noexcept;
validation_action parse_validation_action(std::string_view text);

namespace transforms {
row_transform drop_fields(std::vector<std::string> columns);
row_transform rename_fields(std::vector<std::pair<std::string, std::string>> renames);
// Adds (or overwrites) a timestamptz column holding the time the row passed the pipeline.
row_transform add_timestamp(std::string column);
}  // namespace transforms

}  // namespace laredo
