#pragma once

#include "laredo/change_event.hpp"
#include "laredo/position.hpp"
#include "laredo/row.hpp"
#include "laredo/table_identifier.hpp"

#include <boost/asio/awaitable.hpp>

#include <cstdint>
#include <vector>

namespace laredo {

// Where a source's baseline rows go. Each call hands over a batch of rows of one table (a COPY
// chunk, a file block). The call suspends while the pipelines' buffers are full, so a source
// feels backpressure where it co_awaits. Called only from the source's executor, one call at
// a time.
class baseline_sink {
  public:
    virtual ~baseline_sink() = default;

    virtual boost::asio::awaitable<void> on_rows(const table_identifier& table,
                                                 std::vector<row> rows) = 0;

    // One row; a convenience over on_rows (pays a batch per row: prefer batches).
    boost::asio::awaitable<void> on_row(const table_identifier& table, row r);

    // Optional: how many rows the baseline of `table` is expected to deliver (an estimate,
    // e.g. PostgreSQL's planner statistics), for progress reports. Call it before or while the
    // table's rows arrive; it changes nothing else.
    virtual void on_estimate(const table_identifier& /*table*/, std::uint64_t /*rows*/) {}
};

// Where a source's stream delivers changes. Every call is awaited: it suspends while the
// pipelines' buffers are full (backpressure) and completes once the changes are queued, not
// applied. Called only from the source's executor, one call at a time.
//
// Errors: errc::buffer_overflow when a pipeline with buffer policy `error` under error policy
// stop_source/stop_all refused a change, errc::stopped when the engine stops reading (the
// source should return from stream()).
class change_handler {
  public:
    virtual ~change_handler() = default;

    // A batch of changes of one or more tables, in source order. A transaction's last change
    // has ends_transaction set; a large transaction may span several batches.
    virtual boost::asio::awaitable<void> on_changes(std::vector<change_event> batch) = 0;

    // Nothing to deliver, but the source has reached `pos` (a PostgreSQL keepalive's WAL end).
    // Lets an idle source's ACK advance. Only between transactions.
    virtual boost::asio::awaitable<void> on_heartbeat(position pos) = 0;

    // After an internal reconnect the source will re-deliver from `pos` (at or after the last
    // ACK): the order check starts again from there, and pipelines skip what they applied.
    virtual boost::asio::awaitable<void> on_rewind(position pos) = 0;

    // One change; a convenience over on_changes (pays a batch per change: prefer batches).
    boost::asio::awaitable<void> on_change(change_event event);
};

}  // namespace laredo
