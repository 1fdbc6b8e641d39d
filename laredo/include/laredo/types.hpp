#pragma once

#include "laredo/table_identifier.hpp"

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace laredo {

enum class change_action : std::uint8_t { insert, update, delete_, truncate };
// "INSERT", "UPDATE", "DELETE", "TRUNCATE".
std::string_view to_string(change_action a) noexcept;

// What order a source delivers changes in; the engine uses it to choose ACK strategies.
enum class ordering_guarantee : std::uint8_t {
    total_order,          // all changes in commit order (PostgreSQL WAL)
    per_table_order,      // ordered within a table
    per_partition_order,  // ordered within a partition or shard (Kinesis)
    best_effort,
};
std::string_view to_string(ordering_guarantee g) noexcept;

// A source's connection state, as it reports it.
enum class source_state : std::uint8_t {
    connecting,
    connected,
    streaming,
    reconnecting,
    paused,
    error,
    closed,
};
std::string_view to_string(source_state s) noexcept;

// A pipeline's state, as the engine drives it.
enum class pipeline_state : std::uint8_t {
    initializing,
    baselining,
    streaming,
    paused,
    error,
    stopped,
};
std::string_view to_string(pipeline_state s) noexcept;

// What a full pipeline buffer does with a new change.
enum class buffer_policy : std::uint8_t {
    block,        // the source waits (backpressure)
    drop_oldest,  // the oldest buffered change is dropped; the pipeline leaves the ACK
    error,        // the change is refused and the error policy applies
};
std::string_view to_string(buffer_policy p) noexcept;
buffer_policy parse_buffer_policy(std::string_view text);

// What the engine does when a change still fails after its retries.
enum class error_policy : std::uint8_t {
    isolate,      // this pipeline goes to ERROR, its siblings go on
    stop_source,  // every pipeline of the source goes to ERROR and the source stops
    stop_all,     // every pipeline of the engine goes to ERROR and the engine stops
};
std::string_view to_string(error_policy p) noexcept;
error_policy parse_error_policy(std::string_view text);

// Health and lag a source can report. Either may be unknown.
struct lag_info {
    std::optional<std::int64_t> lag_bytes;
    std::optional<std::chrono::microseconds> lag_time;
    friend bool operator==(const lag_info&, const lag_info&) = default;
};

// A problem validate_tables found. to_string(): "s.t: CODE: message", or "CODE: message"
// when the problem is not about one table.
struct validation_error {
    std::optional<table_identifier> table;
    std::string code;  // TABLE_NOT_FOUND, TABLE_NOT_SERVED, PERMISSION_DENIED, ...
    std::string message;
    std::string to_string() const;
};

// What the engine hands a source at init: the tables its pipelines need, once each.
struct source_config {
    std::vector<table_identifier> tables;
};

// A secondary index of a target that keeps rows.
struct index_definition {
    std::string name;
    std::vector<std::string> fields;
    bool unique = false;
};

// What a target answers when a table's columns change mid-stream.
enum class schema_change_action : std::uint8_t { continue_, rebaseline, error };
struct schema_change_response {
    schema_change_action action = schema_change_action::rebaseline;
    std::string message;
};

}  // namespace laredo
