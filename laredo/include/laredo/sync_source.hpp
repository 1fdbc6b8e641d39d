#pragma once

#include "laredo/change_handler.hpp"
#include "laredo/column_definition.hpp"
#include "laredo/position.hpp"
#include "laredo/table_identifier.hpp"
#include "laredo/types.hpp"

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace laredo {

using table_schemas = std::map<table_identifier, std::vector<column_definition>>;

// A data source: the 16 operations of the interface guide, as coroutines where they do I/O.
//
// Where code runs: every coroutine below runs on get_executor() (a strand the source owns).
// The engine posts ack, pause and resume onto it, so a source needs no locks for them; they
// may run while stream() is suspended in a co_await. state(), lag() and the position
// operations are plain functions that must be safe to call from any thread.
//
// Failures: throw laredo::error. errc::transient (or an asio/system error) is retried with
// backoff by the engine; any other laredo code is fatal; errc::rebaseline_required from
// stream() makes the engine take a new baseline.
//
// Lifecycle the engine drives:
//   init -> validate_tables -> (resume: can_resume_from | baseline) -> stream ... -> close
//                                  ack, pause, resume at any time while streaming
class sync_source {
  public:
    virtual ~sync_source() = default;

    // The strand every coroutine of this source runs on: a boost::asio::strand (of an
    // any_io_executor, an io_context's or a thread_pool's executor). engine::builder::build
    // refuses a source whose executor is not one.
    virtual boost::asio::any_io_executor get_executor() const = 0;

    // A short stable name of the implementation ("testsource", "postgres"), used in pipeline
    // ids and status.
    virtual std::string type_name() const = 0;

    // 1. Connect and discover the columns of every requested table (with key metadata). A table
    // that does not exist is an error naming it.
    virtual boost::asio::awaitable<table_schemas> init(const source_config& config) = 0;

    // 2. Check every table is there and readable; one error per failing table, empty if fine.
    virtual boost::asio::awaitable<std::vector<validation_error>> validate_tables(
        const std::vector<table_identifier>& tables) = 0;

    // 3. A consistent snapshot of `tables`: every row exactly once, in batches, to `sink`.
    // Returns the position the snapshot is consistent with; stream() accepts it as `from`.
    // Also used by the engine to reload one table while the stream goes on.
    virtual boost::asio::awaitable<position> baseline(const std::vector<table_identifier>& tables,
                                                      baseline_sink& sink) = 0;

    // 4. Deliver every change after `from` to `handler` until cancelled (terminal
    // cancellation: return normally, keep the connection so a final ack still works) or a
    // failure (throw). Positions strictly increase, except after on_rewind().
    virtual boost::asio::awaitable<void> stream(position from, change_handler& handler) = 0;

    // 5. Every pipeline has durably processed everything up to `pos`. A stateful source
    // persists it (and may let its upstream discard history up to it).
    virtual boost::asio::awaitable<void> ack(position pos) = 0;

    // 6. Whether the source can start streaming from a position acked in an earlier run.
    virtual bool supports_resume() const = 0;

    // 7. The last position acked and persisted, or nullopt when there is none.
    virtual boost::asio::awaitable<std::optional<position>> last_acked_position() = 0;

    // Beside the guide's 16: whether stream() can start from `pos` without a gap (PostgreSQL:
    // the slot exists, is not lost, and has not confirmed past `pos`). Default:
    // supports_resume().
    virtual boost::asio::awaitable<bool> can_resume_from(const position& pos);

    // 8-10. Positions: a total order, and a string form that round-trips exactly.
    // compare_positions returns <0, 0, >0. position_from_string throws
    // errc::invalid_position naming the string.
    virtual int compare_positions(const position& a, const position& b) const = 0;
    virtual std::string position_to_string(const position& pos) const = 0;
    virtual position position_from_string(std::string_view text) const = 0;

    // 11-12. Stop and restart producing changes. The engine also stops draining the paused
    // pipelines, so a source that keeps producing simply meets backpressure.
    virtual boost::asio::awaitable<void> pause() = 0;
    virtual boost::asio::awaitable<void> resume() = 0;

    // 13-15. Plain functions, safe from any thread.
    virtual lag_info lag() const = 0;
    virtual ordering_guarantee ordering() const = 0;
    virtual source_state state() const = 0;

    // 16. Release every connection, socket, timer and file. Called once, last.
    virtual boost::asio::awaitable<void> close() = 0;
};

// Optional: a source that can destroy and recreate its upstream state (PostgreSQL: drop the
// replication slot, and optionally the publication). The next start takes a full baseline.
class resettable {
  public:
    virtual ~resettable() = default;
    virtual boost::asio::awaitable<void> reset_source(bool drop_publication) = 0;
};

}  // namespace laredo
