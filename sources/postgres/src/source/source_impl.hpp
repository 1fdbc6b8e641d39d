#pragma once

// The state of a postgres_source. Everything below `strand` is touched only by coroutines on
// that strand, except the members marked "any thread".

#include "catalog.hpp"
#include "publication.hpp"
#include "slot.hpp"
#include "strand_signal.hpp"
#include "stream_batcher.hpp"

#include "laredo/sources/postgres/connection.hpp"
#include "laredo/sources/postgres/pgoutput_changes.hpp"
#include "laredo/sources/postgres/postgres_source.hpp"
#include "laredo/sources/postgres/replication_framing.hpp"
#include "laredo/sources/postgres/value_converter.hpp"

#include <boost/asio/steady_timer.hpp>

#include <atomic>
#include <deque>
#include <map>
#include <mutex>
#include <optional>
#include <random>
#include <utility>

namespace laredo::sources::postgres {

// One user of a connection at a time (the query connection serves init, validation, baselines
// and resume checks, which the engine may overlap: a reload while a resume check runs).
class strand_mutex {
  public:
    explicit strand_mutex(const boost::asio::any_io_executor& strand) : released_(strand) {}

    class lock {
      public:
        explicit lock(strand_mutex* m) : m_(m) {}
        lock(lock&& other) noexcept : m_(std::exchange(other.m_, nullptr)) {}
        lock& operator=(lock&&) = delete;
        ~lock() {
            if (m_) m_->unlock();
        }

      private:
        strand_mutex* m_;
    };

    boost::asio::awaitable<lock> acquire() {
        while (held_) co_await released_.wait();
        held_ = true;
        co_return lock(this);
    }

  private:
    void unlock() {
        held_ = false;
        released_.notify();
    }
    bool held_ = false;
    detail::strand_signal released_;
};

struct postgres_source::impl : std::enable_shared_from_this<postgres_source::impl> {
    impl(boost::asio::any_io_executor executor, source_options opts);

    const boost::asio::any_io_executor strand;
    const source_options options;

    connection query;        // catalog, publication, slot checks, baselines
    connection replication;  // replication commands and the stream
    connection monitor;      // the slot's health, beside everything else
    strand_mutex query_lock;
    strand_mutex send_lock;  // one standby status in flight at a time
    strand_mutex monitor_lock;

    value_converter types;
    change_decoder decoder;
    standby_status_tracker status;
    detail::stream_batcher batcher;

    bool initialized = false;
    detail::server_facts server;
    std::optional<system_identity> identity;
    detail::publication_info publication;
    std::map<table_identifier, detail::table_catalog> tables;
    std::map<table_identifier, detail::published_table> published;
    // The newest columns of each table: the catalog's, then each Relation message's.
    std::map<table_identifier, schema_ptr> schemas;

    // The slot. usable: it exists (stateful: on the server; ephemeral: in this replication
    // session) and is not lost, so a stream can start from it.
    bool slot_usable = false;
    // The slot existed before this process created one: its confirmed position at init.
    std::optional<std::uint64_t> slot_confirmed_at_init;
    // Created by the last baseline and not yet imported.
    std::optional<detail::created_slot> exported;

    // The stream.
    bool replicating = false;  // the replication connection is in CopyBoth mode
    bool in_stream = false;    // inside stream()
    bool paused = false;
    bool closed = false;
    position stream_from;
    std::optional<position> last_delivered;
    // A lost slot caused the re-baseline in progress: losing it again before the stream starts
    // is fatal (no loop).
    bool recovering_lost_slot = false;
    std::mt19937 random{std::random_device{}()};
    // The highest position ack() was given (the server keeps only its LSN).
    std::optional<position> acked;

    // The status writer and the health monitor (each a coroutine on the strand).
    boost::asio::steady_timer status_timer;
    bool writer_running = false;
    bool reply_requested = false;
    boost::asio::steady_timer health_timer;
    bool monitor_running = false;
    bool stopping_tasks = false;
    std::uint64_t server_wal_lsn = 0;

    // Commit times of delivered transactions not yet acknowledged (end LSN, commit time), for
    // the lag in time; bounded.
    std::deque<std::pair<std::uint64_t, std::chrono::system_clock::time_point>> unacked_commits;

    // Any thread.
    std::atomic<source_state> state{source_state::closed};
    mutable std::mutex shared_mutex;
    slot_health health;                       // under shared_mutex
    std::vector<baseline_progress> progress;  // under shared_mutex
    lag_info lag;                             // under shared_mutex
    std::uint64_t reconnects = 0;             // under shared_mutex
    std::string last_disconnect;              // under shared_mutex

    connection_params query_params() const;
    connection_params replication_params() const;

    // init's work, split by job.
    boost::asio::awaitable<table_schemas> initialize(const source_config& config);
    boost::asio::awaitable<void> connect_replication();
    // Makes sure the stream can start: reconnects the replication connection, checks that the
    // server and the slot are the ones the positions belong to. Throws rebaseline_required when
    // they are not (the slot is lost, gone with its connection, or on another server).
    boost::asio::awaitable<void> prepare_stream();
    // The slot is gone or invalidated (`what` says how): per on_slot_invalidated, a
    // rebaseline_required or a fatal error; fatal too when it was lost again before the stream
    // could start after the re-baseline an earlier loss caused. Always throws.
    boost::asio::awaitable<void> slot_lost(const std::string& what);
    // The replication session of one stream() call, from START_REPLICATION to its end.
    boost::asio::awaitable<void> stream_session(const position& start, change_handler& handler);
    // Waits before a reconnect attempt (backoff with jitter); cancellable.
    boost::asio::awaitable<void> reconnect_pause(int attempt);

    boost::asio::awaitable<position> take_baseline(const std::vector<table_identifier>& tables,
                                                   baseline_sink& sink);
    boost::asio::awaitable<void> copy_table(const table_identifier& table, baseline_sink& sink,
                                            std::size_t progress_index);
    // The planner's row estimate of each table (after a quick ANALYZE when it has none), to
    // progress() and the sink.
    boost::asio::awaitable<void> estimate_sizes(const std::vector<table_identifier>& tables,
                                                baseline_sink& sink);

    boost::asio::awaitable<void> read_stream(change_handler& handler);
    boost::asio::awaitable<void> deliver(change_handler& handler,
                                         detail::stream_batcher::delivery d);
    // Tells the server what was received and what the engine acknowledged (one at a time).
    boost::asio::awaitable<void> send_status();
    void start_tasks();
    void stop_tasks();
    static boost::asio::awaitable<void> write_status_loop(std::shared_ptr<impl> self);
    static boost::asio::awaitable<void> monitor_loop(std::shared_ptr<impl> self);
    boost::asio::awaitable<void> read_health();
    // A Relation message changed one of our tables: describe it again from the catalog (on the
    // monitor connection), so rows carry what the message lacks (defaults, nullability).
    boost::asio::awaitable<void> refresh_table(const table_identifier& table);

    // The replication session is over (error, reset, close): the connection is closed and a
    // temporary slot with it.
    void end_replication() noexcept;
    void note_commit(std::uint64_t end_lsn, std::chrono::system_clock::time_point at);
    void note_acked(std::uint64_t lsn);
    void update_lag();
    // A session failed and the source reconnects: counted and kept for health().
    void report_reconnect(const std::string& why);
};

}  // namespace laredo::sources::postgres
