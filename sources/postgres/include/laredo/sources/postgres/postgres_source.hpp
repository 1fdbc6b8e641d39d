#pragma once

#include "laredo/sources/postgres/source_options.hpp"
#include "laredo/sync_source.hpp"

#include <boost/asio/any_io_executor.hpp>

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

namespace laredo::sources::postgres {

// The replication slot's health, read every source_options::health_interval while the source
// runs (for metrics and alerts).
struct slot_health {
    bool known = false;  // false until the first successful read
    std::chrono::system_clock::time_point read_at;
    std::uint64_t server_wal_lsn = 0;  // pg_current_wal_lsn() (receive LSN on a standby)
    std::uint64_t confirmed_flush_lsn = 0;
    std::uint64_t restart_lsn = 0;
    // server_wal_lsn - confirmed_flush_lsn: WAL written that laredo has not confirmed.
    std::int64_t lag_bytes = 0;
    // server_wal_lsn - restart_lsn: WAL the server keeps for this slot.
    std::int64_t retained_wal_bytes = 0;
    std::string wal_status;  // reserved, extended, unreserved, lost
    // Bytes that may still be written before the slot is in danger of being lost
    // (max_slot_wal_keep_size); nullopt when unlimited.
    std::optional<std::int64_t> safe_wal_size;
    // Bytes decoding spilled to disk for this slot (pg_stat_replication_slots) since the
    // statistics were reset: large transactions beyond logical_decoding_work_mem.
    std::int64_t spill_bytes = 0;
    bool active = false;
    int active_pid = 0;
    // Stream sessions that ended in a failure and were reconnected, and why the last one ended.
    std::uint64_t reconnects = 0;
    std::string last_disconnect;
};

// Progress of the baseline of one table, for progress bars.
struct baseline_progress {
    table_identifier table;
    std::uint64_t rows_done = 0;
    // The planner's estimate (pg_class.reltuples scaled to the table's current size), or
    // nullopt when the table was never analyzed and could not be.
    std::optional<std::uint64_t> rows_estimated;
    bool done = false;
};

// A sync_source over PostgreSQL logical replication (pgoutput, protocol version 1),
// PostgreSQL 12 or later (tested on 15). See docs/postgres-source.md for the set-up it needs
// (wal_level = logical, a role with REPLICATION and SELECT, replica identities) and how each
// part works.
//
// - init: connects (a query connection and a replication connection), checks the server
//   (wal_level, REPLICATION, a free slot when one must be created), discovers every table's
//   columns, key and replica identity, and creates or updates the publication (only one
//   laredo created; one it did not is used as it is).
// - baseline: with a new slot (always, ephemeral; the first time, stateful), the slot is
//   created with an exported snapshot that a REPEATABLE READ transaction imports, and every
//   table is read with COPY in that snapshot: streaming from the slot's consistent point
//   then misses nothing and repeats nothing. Otherwise (a stateful slot that exists, a reload
//   of one table while streaming) the snapshot is a fresh one and the stream starts at or
//   before it; the overlap is re-delivered (at-least-once) and keyed targets absorb it.
// - stream: START_REPLICATION; transactions reach the handler as batches with a commit
//   marker; a status writer keeps telling the server what the engine ACKed (flush) while the
//   reader waits on backpressure. Positions: (commit LSN, n), string form X/XXXXXXXX:n.
// - ack: the flush LSN sent to the server; for a stateful slot, where the next start resumes.
//
// Failures: a lost connection or a protocol error is errc::transient (the engine streams
// again from its last ACK; a temporary slot is gone with its connection, so an ephemeral
// source asks for a new baseline: errc::rebaseline_required); configuration problems the
// server reports (missing table, privilege, wal_level, bad password, TLS verification) are
// fatal, with a message naming what to change.
class postgres_source final : public sync_source, public resettable {
  public:
    // Throws errc::invalid_config (options.validate()).
    postgres_source(boost::asio::any_io_executor executor, source_options options);
    ~postgres_source() override;

    boost::asio::any_io_executor get_executor() const override;
    std::string type_name() const override { return "postgres"; }

    boost::asio::awaitable<table_schemas> init(const source_config& config) override;
    boost::asio::awaitable<std::vector<validation_error>> validate_tables(
        const std::vector<table_identifier>& tables) override;
    boost::asio::awaitable<position> baseline(const std::vector<table_identifier>& tables,
                                              baseline_sink& sink) override;
    boost::asio::awaitable<void> stream(position from, change_handler& handler) override;
    boost::asio::awaitable<void> ack(position pos) override;

    bool supports_resume() const override;
    boost::asio::awaitable<std::optional<position>> last_acked_position() override;
    boost::asio::awaitable<bool> can_resume_from(const position& pos) override;

    int compare_positions(const position& a, const position& b) const override;
    std::string position_to_string(const position& pos) const override;
    position position_from_string(std::string_view text) const override;

    boost::asio::awaitable<void> pause() override;
    boost::asio::awaitable<void> resume() override;

    lag_info lag() const override;
    ordering_guarantee ordering() const override { return ordering_guarantee::total_order; }
    source_state state() const override;

    boost::asio::awaitable<void> close() override;

    // resettable: drops the replication slot (and, when asked, the publication if laredo
    // created it), so the next start takes a full baseline. Refused, naming the process,
    // while another live process holds the slot.
    boost::asio::awaitable<void> reset_source(bool drop_publication) override;

    // Thread-safe snapshots of the slot's health and of the running baseline's progress.
    slot_health health() const;
    std::vector<baseline_progress> progress() const;

    const source_options& options() const noexcept;

    struct impl;

  private:
    std::shared_ptr<impl> impl_;
};

}  // namespace laredo::sources::postgres
