#pragma once

// The state behind laredo::sources::postgres::connection, shared by connection.cpp (queries,
// COPY), connect.cpp and replication.cpp. Everything here runs on the connection's strand.

#include "laredo/sources/postgres/connection.hpp"

#include <boost/asio/awaitable.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>

#include <libpq-fe.h>

#include <memory>
#include <string>
#include <string_view>

namespace laredo::sources::postgres {

namespace detail {

struct result_deleter {
    void operator()(PGresult* r) const noexcept { PQclear(r); }
};
using result_ptr = std::unique_ptr<PGresult, result_deleter>;

struct copy_data_access {
    static copy_data adopt(char* buffer, std::size_t size) noexcept { return {buffer, size}; }
};

}  // namespace detail

struct connection::impl {
    explicit impl(executor_type ex);
    ~impl();
    impl(const impl&) = delete;
    impl& operator=(const impl&) = delete;

    executor_type executor;
    PGconn* conn = nullptr;
    // A dup() of PQsocket(), registered with the reactor. Owning a descriptor of our own
    // means libpq may close its socket whenever it likes (a failed connect attempt moving
    // to the next address, a lost connection) without the reactor ever holding, or
    // deregistering, a descriptor number that has since been reused; we close ours after
    // every connect poll step and before PQfinish.
    boost::asio::posix::stream_descriptor socket;
    std::string description;
    notice_handler on_notice;
    // A command was sent and its results are not all read: if an operation is abandoned in
    // this state (cancellation, a throwing COPY handler), the connection is closed, since
    // the protocol cannot be resumed.
    bool in_progress = false;
    bool copy_both = false;     // streaming after START_REPLICATION
    bool copy_ended = false;    // the server's end of COPY was seen but not yet finished
    bool client_ended = false;  // end_copy() sent CopyDone

    // The body of connection::connect (connect.cpp).
    boost::asio::awaitable<void> connect(const connection_params& params);

    void close() noexcept;
    void attach_socket(std::string_view context);
    void detach_socket() noexcept;

    std::string context(std::string_view operation) const;
    // Throws unless the connection is open, healthy and idle (or, with `streaming`, in
    // CopyBoth mode).
    void require_ready(std::string_view operation, bool streaming = false) const;

    // Waits for the socket; throws operation_aborted when cancelled or closed meanwhile.
    boost::asio::awaitable<void> wait(boost::asio::posix::descriptor_base::wait_type what);
    // PQconsumeInput, then again while OpenSSL holds decrypted bytes: those do not make
    // the socket readable, so waiting on it with data pending could stall for good. libpq
    // reads with at least 8 KiB free, which takes a PostgreSQL 15 server's records whole (it
    // writes at most 8 KiB at a time); servers and poolers that write full 16 KiB records
    // can leave the rest of one inside OpenSSL (the ruby-pg #588 hang).
    bool consume_input() noexcept;
    // PQflush until everything is on the socket, reading input meanwhile (the server may be
    // blocked writing to us; libpq asks for both directions).
    boost::asio::awaitable<void> flush(std::string_view operation);
    // Waits until PQgetResult will not block, then returns its result (null: no more).
    boost::asio::awaitable<detail::result_ptr> next_result();
    // Sends a simple query and flushes it; marks the connection in progress.
    boost::asio::awaitable<void> send_query(std::string_view operation, std::string_view sql);
    // Reads the remaining results until the connection is idle; returns the last successful
    // one and throws the first failure after draining.
    boost::asio::awaitable<query_result> collect(std::string_view operation);
    // A failure of the connection itself (not of a statement), from PQerrorMessage.
    [[noreturn]] void throw_connection_error(std::string_view operation);

    // One CopyData message if one is complete: >0 taken, 0 needs input, -1 COPY ended.
    int try_take(copy_data& out, std::string_view operation);
    // Waits for more input while streaming.
    boost::asio::awaitable<void> await_input(std::string_view operation);
    // After the server ended CopyBoth: answers its CopyDone and reads the final results.
    boost::asio::awaitable<void> finish_copy_both(std::string_view operation);
};

}  // namespace laredo::sources::postgres
