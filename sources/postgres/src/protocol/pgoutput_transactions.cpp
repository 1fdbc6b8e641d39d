#include "laredo/sources/postgres/pgoutput_transactions.hpp"

#include "laredo/error.hpp"
#include "laredo/sources/postgres/lsn.hpp"

#include <fmt/format.h>

namespace laredo::sources::postgres {

namespace {
// Positions given out by the tracker are pairs or empty, so compare_positions cannot throw.
bool above_last(const position& candidate, const position& last) {
    return compare_positions(candidate, last) > 0;
}
}  // namespace

void transaction_tracker::begin(const begin_message& message) {
    if (open_) {
        throw error(
            errc::corrupt_data,
            fmt::format("Begin of transaction {} (final LSN {}) while transaction {} "
                        "(final LSN {}) is still open",
                        message.xid, format_lsn(message.final_lsn), xid_, format_lsn(final_lsn_)));
    }
    if (!above_last(make_position(message.final_lsn, 1), last_)) {
        throw error(
            errc::corrupt_data,
            fmt::format("Begin of transaction {} with final LSN {}, not above the last "
                        "position {}",
                        message.xid, format_lsn(message.final_lsn), position_to_string(last_)));
    }
    open_ = true;
    xid_ = message.xid;
    final_lsn_ = message.final_lsn;
    commit_time_ = message.commit_time;
    changes_ = 0;
}

position transaction_tracker::next_change_position() {
    if (!open_) {
        throw error(errc::corrupt_data, "row change outside a transaction (no Begin before it)");
    }
    last_ = make_position(final_lsn_, ++changes_);
    return last_;
}

position transaction_tracker::commit(const commit_message& message) {
    if (!open_) {
        throw error(errc::corrupt_data,
                    fmt::format("Commit (commit LSN {}) without a Begin before it",
                                format_lsn(message.commit_lsn)));
    }
    if (message.commit_lsn != final_lsn_) {
        throw error(errc::corrupt_data,
                    fmt::format("Commit LSN {} of transaction {} differs from its Begin's final "
                                "LSN {}",
                                format_lsn(message.commit_lsn), xid_, format_lsn(final_lsn_)));
    }
    const position pos = make_position(message.end_lsn, 0);
    if (!above_last(pos, last_)) {
        throw error(errc::corrupt_data,
                    fmt::format("Commit of transaction {} with end LSN {}, not above the last "
                                "position {}",
                                xid_, format_lsn(message.end_lsn), position_to_string(last_)));
    }
    open_ = false;
    commit_time_ = message.commit_time;
    last_ = pos;
    return pos;
}

std::optional<position> transaction_tracker::heartbeat(std::uint64_t wal_end) {
    if (open_) return std::nullopt;
    const position pos = make_position(wal_end, 0);
    if (!above_last(pos, last_)) return std::nullopt;
    last_ = pos;
    return pos;
}

void transaction_tracker::reset() noexcept {
    open_ = false;
    changes_ = 0;
    last_ = position();
}

}  // namespace laredo::sources::postgres
