#pragma once

// The streaming replication sub-protocol carried inside CopyData messages once
// START_REPLICATION has switched the connection to CopyBoth (docs/postgres-source.md). Sans-io:
// these functions take and return bytes; the connection code does the reading and writing.
//
//   server -> client  'w' XLogData          wal_start u64, wal_end u64, send_time i64, payload
//   server -> client  'k' primary keepalive wal_end u64, send_time i64, reply_requested u8
//   client -> server  'r' standby status    write u64, flush u64, apply u64, client_time i64,
//                                           reply_requested u8
//
// All integers are big-endian; times are microseconds since 2000-01-01 00:00 UTC.

#include "laredo/position.hpp"

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <variant>

namespace laredo::sources::postgres {

// Microseconds from 1970-01-01 to 2000-01-01, the epoch of PostgreSQL's wire timestamps.
inline constexpr std::int64_t pg_epoch_unix_micros = 946'684'800'000'000LL;

// A wire timestamp (µs since 2000-01-01 UTC) as a system_clock time point, and back.
std::chrono::system_clock::time_point from_pg_timestamp(std::int64_t pg_micros) noexcept;
std::int64_t to_pg_timestamp(std::chrono::system_clock::time_point t) noexcept;

// 'w': one WAL chunk; for logical replication the payload is one pgoutput message. The
// payload views the CopyData buffer it was parsed from.
//
// wal_start is the decoding context's write location and is 0/0 for some messages (Relation,
// Type, and a Begin followed by an Origin): never derive a position from it.
struct xlog_data {
    std::uint64_t wal_start = 0;
    std::uint64_t wal_end = 0;
    std::int64_t send_time = 0;
    std::string_view payload;
};

// 'k': the server's WAL end while it has nothing (else) to send; reply_requested asks for an
// immediate standby status update (the walsender's timeout is near).
struct primary_keepalive {
    std::uint64_t wal_end = 0;
    std::int64_t send_time = 0;
    bool reply_requested = false;
};

using replication_message = std::variant<xlog_data, primary_keepalive>;

// Parses the content of one CopyData message from the server (what PQgetCopyData returns).
// Throws laredo::error(errc::corrupt_data) naming the problem for an empty, truncated, overlong
// or unknown message.
replication_message parse_replication_message(std::string_view copy_data);

// 'r': what the client has received (write) and what is safe to release (flush, apply).
struct standby_status_update {
    std::uint64_t write = 0;
    std::uint64_t flush = 0;
    std::uint64_t apply = 0;
    std::int64_t client_time = 0;
    bool reply_requested = false;
    friend bool operator==(const standby_status_update&, const standby_status_update&) = default;
};

inline constexpr std::size_t standby_status_update_size = 34;

// The CopyData content to send (PQputCopyData) for `update`.
std::array<char, standby_status_update_size> encode_standby_status_update(
    const standby_status_update& update) noexcept;

// The inverse, for tests and scripted fake servers. Throws errc::corrupt_data.
standby_status_update parse_standby_status_update(std::string_view copy_data);

// The LSN bookkeeping of a replication connection (docs/postgres-source.md, "What the server
// is told"). The server is told write = what was received and
// flush = apply = what the engine acknowledged (applied by every pipeline), never a received
// LSN as flush, and never a lower flush than one already sent. Sans-io and single-threaded:
// the connection owns one and uses it from its strand; its timer decides when to send.
//
// write is sent as max(received, flush) so the server never sees flush > write.
class standby_status_tracker {
  public:
    // Every XLogData (its wal_end) and keepalive (its wal_end) the client reads. Lower values
    // than one already seen are ignored.
    void on_received(std::uint64_t wal_end) noexcept;
    void on_received(const replication_message& message) noexcept;

    // The engine's ACK: the flush LSN for a position is its LSN (lsn.hpp), safe
    // even when the position is a row inside a transaction. Lower values are ignored, so the
    // flush never moves backwards.
    void on_acked(std::uint64_t lsn) noexcept;
    // Throws errc::invalid_position for a position that is not a PostgreSQL position; the
    // empty position is ignored.
    void on_acked(const position& pos);

    std::uint64_t received() const noexcept { return received_; }
    std::uint64_t acked() const noexcept { return acked_; }
    // What the last update sent carried (0/0 before the first).
    std::uint64_t sent_write() const noexcept { return sent_write_; }
    std::uint64_t sent_flush() const noexcept { return sent_flush_; }

    // True when an update would tell the server something new.
    bool has_news() const noexcept;

    // The update to send now; it is recorded as sent. `client_time` is in wire time
    // (to_pg_timestamp(system_clock::now())).
    standby_status_update next_update(std::int64_t client_time,
                                      bool reply_requested = false) noexcept;

  private:
    std::uint64_t received_ = 0;
    std::uint64_t acked_ = 0;
    std::uint64_t sent_write_ = 0;
    std::uint64_t sent_flush_ = 0;
};

}  // namespace laredo::sources::postgres
