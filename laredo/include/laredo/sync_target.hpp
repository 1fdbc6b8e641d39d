#pragma once

#include "laredo/change_event.hpp"
#include "laredo/position.hpp"
#include "laredo/row.hpp"
#include "laredo/table_identifier.hpp"
#include "laredo/types.hpp"

#include <boost/asio/awaitable.hpp>

#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace laredo {

// What a snapshot records about one table, and what a restore hands back to the target.
struct table_snapshot_info {
    table_identifier table;
    std::uint64_t row_count = 0;
    std::vector<column_definition> columns;
    std::string target_type;
    std::vector<index_definition> indexes;
};

// A target: where one pipeline's rows and changes end up. The engine calls every operation
// on the pipeline's strand, one at a time, so a target needs no locks for its writes (it
// needs them only for reads it offers to other threads).
//
// Failures: throw laredo::error. errc::transient is retried with backoff; anything else
// applies the pipeline's error policy after its retries.
class sync_target {
  public:
    virtual ~sync_target() = default;

    // A short stable name of the implementation ("memory.indexed", "httpsync"), used in
    // pipeline ids ("src:schema.table:memory.indexed"), metrics and dead-letter file names.
    virtual std::string type_name() const = 0;

    // Once per table before baseline, restore or resume, with the columns rows will carry.
    virtual boost::asio::awaitable<void> on_init(const table_identifier& table,
                                                 schema_ptr schema) = 0;

    // A batch of baseline rows (already filtered and transformed).
    virtual boost::asio::awaitable<void> on_baseline_rows(const table_identifier& table,
                                                          std::span<const row> rows) = 0;

    // The baseline is complete; the table is consistent with `pos`.
    virtual boost::asio::awaitable<void> on_baseline_complete(const table_identifier& table,
                                                              const position& pos) = 0;

    // A batch of changes of this table, in order, already filtered and transformed. The
    // default calls on_insert/on_update/on_delete/on_truncate for each; targets that can apply
    // a transaction as a whole override it.
    virtual boost::asio::awaitable<void> on_changes(const table_identifier& table,
                                                    std::span<const change_event> changes);

    virtual boost::asio::awaitable<void> on_insert(const table_identifier& table,
                                                   const change_event& change) = 0;
    // change.new_values is the new row; change.identity() finds the old one.
    virtual boost::asio::awaitable<void> on_update(const table_identifier& table,
                                                   const change_event& change) = 0;
    // change.identity() finds the row.
    virtual boost::asio::awaitable<void> on_delete(const table_identifier& table,
                                                   const change_event& change) = 0;
    virtual boost::asio::awaitable<void> on_truncate(const table_identifier& table,
                                                     const change_event& change) = 0;

    // Durability. When is_durable() is true, everything applied so far is durable and the
    // engine confirms the position the pipeline reached (the last change, or a heartbeat
    // after it). Targets that are durable only later (an HTTP batch not yet answered) return
    // false and report confirmed_position() instead.
    virtual bool is_durable() const { return true; }
    virtual std::optional<position> confirmed_position() const { return std::nullopt; }

    // What this target's state still holds after the engine restarts (resume), or nullopt.
    virtual std::optional<position> persisted_position() const { return std::nullopt; }

    // The positioned-target capability: the position of the change about to be applied, or
    // of the baseline about to complete. Called just before each apply (retries included).
    virtual void set_change_position(const position&) {}

    // The source has reached `pos` with nothing more for this table up to there (a
    // heartbeat): a target that persists its position may record it, so a restart can resume
    // from where the ACK went. Called on the pipeline's strand, between transactions.
    virtual void on_position_reached(const table_identifier& /*table*/, const position& /*pos*/) {}

    // A table's columns changed mid-stream. Default: re-baseline the table.
    virtual boost::asio::awaitable<schema_change_response> on_schema_change(
        const table_identifier& table, const row_schema& old_schema, const row_schema& new_schema);

    // Re-baseline: the engine calls begin_rebuild, hands the new copy through
    // on_baseline_rows / on_baseline_complete, then commit_rebuild. A target that keeps rows
    // builds the new copy beside the old one and swaps it in at commit, so readers never see
    // a partial table and no stale row survives. Default: begin_rebuild truncates.
    virtual boost::asio::awaitable<void> begin_rebuild(const table_identifier& table);
    virtual boost::asio::awaitable<void> commit_rebuild(const table_identifier& table);

    // Targets that keep rows: the stored row with the key of `identity` (used to fill
    // unchanged TOAST columns and to decide filter crossings). keeps_rows() says whether
    // find() means anything.
    virtual bool keeps_rows() const { return false; }
    virtual std::optional<row> find(const row& identity) const;

    // Targets that keep rows: how many rows the table holds (validation compares it with
    // what the source sent through the pipeline's filters), and a visit of every stored row
    // (the TTL scanner). Called on the pipeline's strand; for_each_row's callback must not
    // call into the target. Defaults: nullopt, and errc::unsupported.
    virtual std::optional<std::uint64_t> row_count(const table_identifier& table) const;
    virtual void for_each_row(const table_identifier& table,
                              const std::function<void(const row&)>& fn) const;

    // Snapshots.
    virtual boost::asio::awaitable<std::vector<row>> export_snapshot(const table_identifier& table);
    virtual boost::asio::awaitable<void> restore_snapshot(const table_snapshot_info& info,
                                                          std::vector<row> rows,
                                                          const position& pos);
    virtual bool supports_consistent_snapshot() const { return false; }

    // The pipeline is stopping. Flush what is buffered.
    virtual boost::asio::awaitable<void> on_close(const table_identifier& table);
};

}  // namespace laredo
