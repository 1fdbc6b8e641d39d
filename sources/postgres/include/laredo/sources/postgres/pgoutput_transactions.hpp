#pragma once

// Transaction boundaries and positions of a pgoutput stream (lsn.hpp): every row
// change of a transaction gets (final_lsn of its Begin, n) with n = 1, 2, ...; its Commit gets
// (end_lsn, 0). Heartbeats (a keepalive's WAL end) are only given between transactions and
// only above the last position given out. Positions given out therefore strictly increase
// within one session; the tracker refuses a Begin or Commit that would break that, or that
// arrives out of turn, with laredo::error(errc::corrupt_data).

#include "laredo/sources/postgres/pgoutput.hpp"

#include "laredo/position.hpp"

#include <cstdint>
#include <optional>

namespace laredo::sources::postgres {

class transaction_tracker {
  public:
    // Opens a transaction. Throws when one is already open, or when its first position would
    // not be above the last position given out.
    void begin(const begin_message& message);

    // The position of the next row change of the open transaction. Throws when none is open.
    position next_change_position();

    // Closes the open transaction; returns its commit position (end_lsn, 0). Throws when none
    // is open, when commit_lsn differs from the Begin's final_lsn, or when end_lsn is not
    // above the transaction's row positions.
    position commit(const commit_message& message);

    // A keepalive's WAL end as a heartbeat position, or nullopt when a transaction is open or
    // it would not be above the last position given out.
    std::optional<position> heartbeat(std::uint64_t wal_end);

    bool in_transaction() const noexcept { return open_; }
    // Of the open (or last) transaction.
    std::uint32_t xid() const noexcept { return xid_; }
    std::uint64_t final_lsn() const noexcept { return final_lsn_; }
    std::int64_t commit_time() const noexcept { return commit_time_; }
    // Row changes given a position in the open (or last) transaction.
    std::uint64_t change_count() const noexcept { return changes_; }
    // The last position given out (a row, a commit or a heartbeat); empty at first.
    const position& last_position() const noexcept { return last_; }

    // A new session (after a reconnect): the open transaction, if any, is dropped (the server
    // sends it again whole) and positions may start lower; the caller tells the engine with
    // on_rewind.
    void reset() noexcept;

  private:
    bool open_ = false;
    std::uint32_t xid_ = 0;
    std::uint64_t final_lsn_ = 0;
    std::int64_t commit_time_ = 0;
    std::uint64_t changes_ = 0;
    position last_;
};

}  // namespace laredo::sources::postgres
