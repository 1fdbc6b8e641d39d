#pragma once

#include "laredo/change_event.hpp"
#include "laredo/error.hpp"
#include "laredo/sources/testsource/positions.hpp"
#include "laredo/sync_source.hpp"

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace laredo::sources::testsource {

// The upstream a test source reads: tables with their current rows, the change history
// (the "WAL"), and the persisted ACK. It outlives the source that created it, so a test can
// model an engine restart against the same server: take `database()` from the first source
// and hand it to the second one through test_source_options::database. Opaque: every access
// goes through a test_source. One live source per database at a time (close the old one).
class test_database;

// The steps of the contract a test can make fail, and whose calls test_source counts.
enum class step : std::uint8_t {
    init,
    validate_tables,
    baseline,
    stream,
    ack,
    pause,
    resume,
    close,
    last_acked_position,
    can_resume_from,
};
inline constexpr std::size_t step_count = 10;

struct test_source_options {
    position_mode positions = position_mode::sequence;

    // At most this many changes per on_changes call (and rows per on_rows call). >= 1.
    std::size_t batch_size = 256;

    // When true: supports_resume() is true, ack() persists into the database, and
    // last_acked_position() / can_resume_from() answer from it.
    bool supports_resume = false;

    // The history the database keeps. An ack lets it forget every change up to the ACK (and
    // up to what the running stream has delivered); keep_acked_history keeps them. With
    // max_history > 0 the oldest changes beyond that many are forgotten even if nobody has
    // received them yet: a replication slot that lost its WAL (the stream then throws
    // errc::rebaseline_required).
    bool keep_acked_history = false;
    std::size_t max_history = 0;

    // Delays that give a test time to act in the middle of an operation. With a baseline row
    // delay the baseline hands over one row per on_rows call, after waiting that long.
    std::chrono::milliseconds baseline_row_delay{0};
    std::chrono::milliseconds stream_batch_delay{0};

    ordering_guarantee ordering = ordering_guarantee::total_order;

    // The database to read; null makes a new one. Its position mode must match `positions`.
    std::shared_ptr<test_database> database;
};

// A programmable in-memory source: a small database whose changes a test injects from any
// thread while the engine streams them, with the behaviours of the PostgreSQL source on demand
// (multi-row transactions with commit markers and pair positions, unchanged values, a column
// change mid-stream, re-delivery after a reconnect, a demand for a re-baseline, a lost history)
// and failures at every step of the contract.
//
// Threads: the contract's coroutines must run on get_executor() (a strand made from the
// executor given to the constructor); called anywhere else they throw errc::invalid_argument,
// which catches an engine that forgets to post. Everything else (the setup, injection and
// inspection functions below, state(), lag(), the position functions) may be called from any
// thread at any time. The database is guarded by a mutex held only for a few map operations,
// never across a suspension, so injection returns the position it assigned; the stream is
// woken through an awaitable signal on the strand.
//
// Positions: see position_mode. A baseline returns the position of the newest change (0, or
// "0" in pair mode, when there is none); stream(from) delivers every change after `from`.
// lag().lag_bytes is the number of changes not yet delivered (not bytes): the only measure a
// test source has.
class test_source final : public sync_source {
  public:
    // A transaction to inject as one unit: its changes get consecutive positions, the same
    // transaction id and commit time, and the last one ends_transaction. Build it on any
    // thread, then hand it to commit().
    class transaction {
      public:
        transaction& insert(const table_identifier& table, row r);
        // old_row is the identity (the key columns, or the whole old row); empty: the key of
        // new_row identifies the row. new_row may hold value::unchanged() for columns the
        // "server" did not resend; the stored row keeps its value for them.
        transaction& update(const table_identifier& table, row new_row, row old_row = {});
        transaction& remove(const table_identifier& table, row identity);
        transaction& truncate(const table_identifier& table);

        bool empty() const noexcept { return changes_.empty(); }
        std::size_t size() const noexcept { return changes_.size(); }

      private:
        friend class test_source;
        std::vector<change_event> changes_;
    };

    // Throws errc::invalid_argument for batch_size 0 or a database of the other position mode.
    explicit test_source(boost::asio::any_io_executor executor, test_source_options options = {});
    ~test_source() override;
    test_source(const test_source&) = delete;
    test_source& operator=(const test_source&) = delete;

    // ---- setup (any thread) ----

    // Creates a table with these columns, or changes the columns of an existing one (like
    // alter_schema). Key columns are those with primary_key or a primary_key_ordinal; ordinal
    // positions left at 0 are numbered. A table without key columns is keyed by all of them.
    // Returns the schema rows of the table must carry.
    schema_ptr set_schema(const table_identifier& table, std::vector<column_definition> columns);
    // The table's current schema; errc::unknown_table when it has none.
    schema_ptr schema_of(const table_identifier& table) const;
    // Columns of type "text" named `names`, the first `key_columns` of them the key.
    static std::vector<column_definition> text_columns(const std::vector<std::string>& names,
                                                       std::size_t key_columns = 1);
    // A row of the table's current schema; columns not named are null.
    row make_row(const table_identifier& table,
                 const std::vector<std::pair<std::string, value>>& values) const;
    // Baseline data: a row that was there before anything streamed. Not a change: no stream
    // ever delivers it. Replaces a row with the same key. errc::schema_mismatch when the row
    // is not of the table's current schema.
    void add_row(const table_identifier& table, row r);

    // ---- injection while streaming (any thread) ----
    // Each applies to the table and appends to the history; the running stream delivers it.
    // Returns the position the change got. Throws (and changes nothing) for an unknown table
    // (errc::unknown_table) or a row of another schema (errc::schema_mismatch).

    position insert(const table_identifier& table, row r);
    position update(const table_identifier& table, row new_row, row old_row = {});
    position remove(const table_identifier& table, row identity);
    position truncate(const table_identifier& table);
    // All changes of `tx` as one transaction; returns the position of its last change.
    // errc::invalid_argument for an empty transaction.
    position commit(transaction tx);

    // Pre-built events for benchmarks: the source assigns positions, transaction ids, commit
    // times and timestamps (when left at their defaults). Consecutive events up to one with
    // ends_transaction form a transaction; the last event always ends one. Unlike the calls
    // above they bypass the tables (no validation, no effect on a later baseline). Returns the
    // position of the last event (the newest position when `events` is empty).
    position emit(std::vector<change_event> events);

    // The columns of a table change mid-stream: stored rows are converted (columns kept by
    // name, new ones null), and later changes must carry rows of the new schema, as after a
    // PostgreSQL Relation message. Changes already in the history keep their rows.
    // errc::unknown_table when the table does not exist.
    schema_ptr alter_schema(const table_identifier& table, std::vector<column_definition> columns);

    // Asks the running stream to report on_heartbeat(delivered position) once it has
    // delivered everything, i.e. between transactions.
    void heartbeat();

    // An internal reconnect: the stream calls on_rewind(rewind_to) and re-delivers every change
    // after it. Without an argument it rewinds to the last position acked to this source, or
    // to where the stream started. delivered_position() moves back at once. Throws
    // errc::invalid_argument when no stream runs, rewind_to is after the delivered position,
    // or the history before it is gone.
    void simulate_reconnect();
    void simulate_reconnect(position rewind_to);

    // The running stream (or the next one) throws errc::rebaseline_required.
    void require_rebaseline();

    // Forgets the history up to and including `through` (all of it without an argument): a
    // lost replication slot. can_resume_from() then refuses older positions and a stream that
    // still needed those changes throws errc::rebaseline_required.
    void discard_history();
    void discard_history(const position& through);

    // ---- failures (any thread) ----

    // The next `times` calls of `s` throw laredo::error(code, message naming the step). For
    // step::stream this also stops a stream that is running now. A failed init or stream
    // moves the state to error for a fatal code and to reconnecting for a retryable one.
    void fail_next(step s, errc code, int times = 1);
    // The next baseline hands over its first `rows` rows, then throws laredo::error(code).
    void fail_baseline_after(std::size_t rows, errc code);

    // ---- inspection (any thread) ----

    std::shared_ptr<test_database> database() const;
    // The newest position in the history: what a baseline taken now returns.
    position head() const;
    // The position of the last change the running (or last) stream delivered: on_changes
    // returned for it. Starts at the stream's `from`; empty before any stream.
    position delivered_position() const;
    // Completes with true once a stream has delivered `pos`, false when `limit` passes or the
    // source closes first. Usable from any executor.
    boost::asio::awaitable<bool> wait_delivered(
        position pos, std::chrono::milliseconds limit = std::chrono::seconds(10));

    // What the engine did: every ack in order, the last one, how often each step was called
    // (failed calls included), and the tables of every baseline.
    std::vector<position> acked_positions() const;
    std::optional<position> last_acked() const;
    std::size_t calls(step s) const;
    std::vector<std::vector<table_identifier>> baseline_requests() const;

    // ---- sync_source ----

    boost::asio::any_io_executor get_executor() const override;
    std::string type_name() const override { return "testsource"; }

    // errc::unknown_table naming every table that was never set_schema'd.
    boost::asio::awaitable<table_schemas> init(const source_config& config) override;
    // TABLE_NOT_FOUND for each unknown table.
    boost::asio::awaitable<std::vector<validation_error>> validate_tables(
        const std::vector<table_identifier>& tables) override;
    // The current rows of `tables`, consistent with the returned position (taken at once, so
    // changes injected while the rows are handed over are not in it, and come after it).
    boost::asio::awaitable<position> baseline(const std::vector<table_identifier>& tables,
                                              baseline_sink& sink) override;
    // Delivers in batches of batch_size until terminal cancellation or close() (returns
    // normally, state connected) or a failure (throws). errc::rebaseline_required when the
    // changes after `from` are gone, errc::invalid_position when `from` is beyond head(),
    // errc::invalid_argument when a stream is already running.
    boost::asio::awaitable<void> stream(position from, change_handler& handler) override;
    // Records `pos`; with supports_resume persists it. errc::invalid_argument when it is
    // beyond head(), errc::invalid_position when it is of the other mode.
    boost::asio::awaitable<void> ack(position pos) override;
    bool supports_resume() const override;
    boost::asio::awaitable<std::optional<position>> last_acked_position() override;
    // With supports_resume: `pos` is not older than the forgotten history and not beyond
    // head(). Without: false.
    boost::asio::awaitable<bool> can_resume_from(const position& pos) override;

    int compare_positions(const position& a, const position& b) const override;
    std::string position_to_string(const position& pos) const override;
    position position_from_string(std::string_view text) const override;

    // pause stops delivery (and heartbeats, rewinds) until resume; an injected failure or a
    // re-baseline demand still ends a paused stream.
    boost::asio::awaitable<void> pause() override;
    boost::asio::awaitable<void> resume() override;

    lag_info lag() const override;
    ordering_guarantee ordering() const override;
    source_state state() const override;

    // Ends a running stream (it returns normally), completes every wait_delivered with false
    // and releases the timers: an io_context with nothing else runs out of work. init() opens
    // the source again.
    boost::asio::awaitable<void> close() override;

  private:
    struct impl;
    std::shared_ptr<impl> impl_;
};

}  // namespace laredo::sources::testsource
