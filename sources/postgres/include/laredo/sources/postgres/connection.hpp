#pragma once

#include "laredo/sources/postgres/connection_params.hpp"
#include "laredo/sources/postgres/copy_data.hpp"
#include "laredo/sources/postgres/query_result.hpp"

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace laredo::sources::postgres {

// A NOTICE / WARNING the server sent; valid only during the handler call.
struct pg_notice {
    std::string_view severity;  // NOTICE, WARNING, ... (non-localized)
    std::string_view sqlstate;
    std::string_view message;
};

// A query parameter in text form; std::nullopt is SQL NULL.
using query_param = std::optional<std::string_view>;

// The answer to IDENTIFY_SYSTEM on a replication connection.
struct system_identity {
    std::string system_id;  // decimal, as the server prints it (64 bits)
    std::uint32_t timeline = 0;
    std::string xlogpos;  // the current WAL flush position, "X/X"
    std::string dbname;   // the database a logical walsender is attached to
};

// What to stream with START_REPLICATION ... LOGICAL.
struct replication_start {
    // [a-z0-9_]{1,63}; anything else is refused before it reaches the server.
    std::string slot_name;
    // Where to start; the server moves a start below the slot's confirmed_flush_lsn up to it,
    // so 0 means "from the slot's confirmed position".
    std::uint64_t start_lsn = 0;
    // Output plugin options in order, e.g. {"proto_version", "1"}, {"publication_names",
    // "my_pub"}. Names must be [a-z_][a-z0-9_]*; values are sent as SQL string literals
    // (quoted here), so pass them unquoted. Note that publication_names is itself a list of
    // identifiers, parsed by pgoutput: a name with upper case or commas needs its own
    // double quotes inside the value.
    std::vector<std::pair<std::string, std::string>> plugin_options;
};

// One asynchronous libpq connection (simple query, COPY TO STDOUT, and the logical
// replication protocol) driven by Asio: libpq runs in non-blocking mode and the executor
// waits for socket readiness, so no operation ever blocks a thread.
//
// Thread safety: none inside one connection. Run all operations of a connection from one
// strand (or a single-threaded io_context); different connections are independent. At most
// one operation at a time, except that during replication (after start_replication) one
// read_copy_data and one send_copy_data / end_copy may be outstanding together: a
// status writer can keep sending while the reader waits.
//
// Errors: operations throw pg_error for failures the server or libpq report (with SQLSTATE,
// severity, message, detail, hint; code() is errc::transient or errc::source_failed, see
// classify_sqlstate), laredo::error(errc::invalid_argument) for bad arguments,
// laredo::error(errc::not_started) when the connection is not open,
// laredo::error(errc::timeout) when connect exceeds connect_timeout, and
// boost::system::system_error(asio::error::operation_aborted) when cancelled.
//
// Cancellation: every operation supports terminal cancellation through the awaiting
// coroutine's cancellation slot (it aborts the wait for the socket). What it leaves behind is
// documented per operation. To stop a statement that runs long on the server instead, call
// cancel_backend(backend_pid()) on a second connection (PQcancel blocks; a non-blocking
// cancel request arrives only with PostgreSQL 17).
class connection {
  public:
    using executor_type = boost::asio::any_io_executor;
    using notice_handler = std::function<void(const pg_notice&)>;
    // Receives whole CopyData messages, see copy_chunk. Awaited before more data is read, so
    // a slow handler slows the COPY (backpressure) instead of buffering it.
    using chunk_handler = std::function<boost::asio::awaitable<void>(copy_chunk)>;

    explicit connection(executor_type executor);
    // close(). As with any Asio I/O object, no operation may be outstanding when the
    // connection is destroyed (close() first and let the aborted operations finish).
    ~connection();
    // A moved-from connection may only be destroyed or assigned to.
    connection(connection&&) noexcept;
    connection& operator=(connection&&) noexcept;
    connection(const connection&) = delete;
    connection& operator=(const connection&) = delete;

    executor_type get_executor() const noexcept;

    bool is_open() const noexcept;
    // The server process serving this connection (for pg_cancel_backend); 0 when closed.
    int backend_pid() const noexcept;
    // E.g. 150020 for 15.20; 0 when closed.
    int server_version() const noexcept;
    bool uses_tls() const noexcept;
    // connection_params::describe() of the last connect(); never contains the password.
    const std::string& description() const noexcept;

    // Where NOTICE / WARNING messages go; by default they are dropped (libpq would print them
    // to stderr). Set it before connect(); it runs inside the operation that received them.
    void set_notice_handler(notice_handler handler);

    // Opens the connection: resolves `host` with Asio, then PQconnectStartParams +
    // PQconnectPoll driven by socket readiness (the socket is looked up again after every
    // poll step, since libpq moves to a new socket when it tries the next address), TLS and
    // authentication included, and applies the session settings. A connection that was open
    // is closed first.
    // Errors: pg_error (refused, unreachable, TLS verification, authentication: SQLSTATE
    // 28P01, unknown database: 3D000, ...); errc::timeout after params.connect_timeout.
    // Cancellation: terminal; the half-open connection is closed.
    boost::asio::awaitable<void> connect(connection_params params);

    // Runs `sql` with the simple query protocol (several statements separated by ';' are
    // allowed; the result of the last one is returned) and collects the whole result in
    // memory: use copy_out for large results. `sql` must stay valid until completion.
    // Errors: pg_error with the server's SQLSTATE; the connection stays usable after an
    // ERROR. A COPY statement is refused (use copy_out).
    // Cancellation: terminal; the statement may still be running on the server, so the
    // connection is closed.
    boost::asio::awaitable<query_result> query(std::string_view sql);

    // Same with $1, $2... parameters in text form (extended protocol: one statement only;
    // not available on a replication connection).
    boost::asio::awaitable<query_result> query(std::string_view sql,
                                               std::span<const query_param> params);

    // Runs a `COPY ... TO STDOUT` statement and streams its data to `handler` in chunks of at
    // most `max_chunk_bytes` (or one message, if a single message is larger): whatever has
    // arrived is handed over before waiting for the socket again, so memory stays bounded
    // whatever the table size. Returns the row count the server reports. `copy_sql` must stay
    // valid until completion.
    // Errors: pg_error (e.g. 42P01 for an unknown table, before any chunk); an exception
    // thrown by the handler ends the COPY and is rethrown (the connection is then closed, as
    // the server is still sending).
    // Cancellation: terminal; the connection is closed.
    boost::asio::awaitable<std::uint64_t> copy_out(std::string_view copy_sql, chunk_handler handler,
                                                   std::size_t max_chunk_bytes = 256 * 1024);

    // Asks the server to cancel the statement running in backend `pid` (usually another
    // connection's backend_pid()), via SELECT pg_cancel_backend(pid) on this connection.
    // Returns whether the signal was sent; the cancelled statement then fails with
    // SQLSTATE 57014. Needs the same role as the target or pg_signal_backend.
    boost::asio::awaitable<bool> cancel_backend(int pid);

    // IDENTIFY_SYSTEM (replication connections only).
    boost::asio::awaitable<system_identity> identify_system();

    // START_REPLICATION SLOT "<slot>" LOGICAL <start_lsn> (<options>): switches the
    // connection into CopyBoth mode. Read with read_copy_data, answer with send_copy_data,
    // end with end_copy.
    // Errors: laredo::error(errc::invalid_argument) for a bad slot or option name; pg_error
    // from the server (42704 unknown slot, 55006 slot active for another process, 55000
    // slot invalidated, ...).
    boost::asio::awaitable<void> start_replication(replication_start options);

    // The next CopyData message from the server (raw bytes: 'w' XLogData, 'k' keepalive),
    // waiting for one if none has arrived. std::nullopt when the server ended the COPY (after
    // end_copy, or on its own); the connection is then back to idle and accepts queries.
    // Errors: pg_error, e.g. 57P01 (transient) when the walsender is terminated.
    // Cancellation: terminal; harmless: no message is lost, the stream stays usable and the
    // next read_copy_data continues where this one stopped.
    boost::asio::awaitable<std::optional<copy_data>> read_copy_data();

    // Batch form: appends up to `max_messages` messages to `out`, waiting only until at least
    // one is there, and returns how many were appended; 0 means the server ended the COPY
    // (as std::nullopt above). Same errors and cancellation.
    boost::asio::awaitable<std::size_t> read_copy_data(std::vector<copy_data>& out,
                                                       std::size_t max_messages);

    // Sends one CopyData message (e.g. a 34-byte standby status update 'r') and waits until
    // libpq has written it to the socket.
    // Cancellation: terminal; harmless: an unsent rest stays queued in libpq and goes out with
    // the next send.
    boost::asio::awaitable<void> send_copy_data(std::span<const std::byte> message);

    // Sends CopyDone: the client ends the replication stream. Keep calling read_copy_data
    // until it reports the end; the server may still send messages it had queued.
    boost::asio::awaitable<void> end_copy();

    // Closes the connection (PQfinish sends Terminate) and aborts outstanding waits, which
    // then fail with asio::error::operation_aborted. Synchronous and idempotent. Call it on
    // the connection's strand.
    void close() noexcept;

    struct impl;

  private:
    std::unique_ptr<impl> impl_;
};

// Opens a short-lived connection with `params` (replication turned off) and asks the server
// to cancel the statement running in backend `pid` (pg_cancel_backend). Returns whether the
// signal was sent.
boost::asio::awaitable<bool> cancel_query(boost::asio::any_io_executor executor,
                                          connection_params params, int pid);

}  // namespace laredo::sources::postgres
