#pragma once

// The pieces of this layer put together: one pgoutput message in, change events out. A
// PostgreSQL source feeds every XLogData payload to change_decoder::feed and delivers the
// events it appends; keepalives go to heartbeat(). Sans-io and single-threaded.
//
// Events carry table, action, position (lsn.hpp), the commit time and xid from the
// Begin, `timestamp` = the time given to feed, and the rows (pgoutput_relations.hpp). They are
// appended with ends_transaction = false; the Commit sets it on the transaction's last event
// when that event is still the last element of the caller's vector (step::marked_last_event).
// When the caller delivered that event already, it marks the end of the transaction itself
// (for example with a heartbeat at the commit position).

#include "laredo/sources/postgres/pgoutput.hpp"
#include "laredo/sources/postgres/pgoutput_relations.hpp"
#include "laredo/sources/postgres/pgoutput_transactions.hpp"
#include "laredo/sources/postgres/replication_framing.hpp"
#include "laredo/sources/postgres/value_converter.hpp"

#include "laredo/change_event.hpp"
#include "laredo/position.hpp"

#include <chrono>
#include <cstddef>
#include <optional>
#include <string_view>
#include <vector>

namespace laredo::sources::postgres {

struct change_decoder_options {
    // Skip the row changes and truncates of tables that have no catalog schema
    // (relation_cache::set_catalog_schema): tables no pipeline reads, in a publication that
    // has more. Their rows are not converted; they still use up a position number, so a
    // position means the same whatever is skipped.
    bool only_catalog_tables = false;
};

class change_decoder {
  public:
    // What one message did.
    struct step {
        enum class kind : std::uint8_t {
            begin,     // a transaction opened
            changes,   // row events (or truncate events) were appended: `events` of them
            skipped,   // a row change of a table without a catalog schema (only_catalog_tables)
            commit,    // the transaction closed at `commit_position`
            relation,  // a Relation message: `relation`, `change`
            type,      // a Type message (the value converter learnt the type)
            origin,    // an Origin message: `origin`
            message,   // a logical decoding message: `message`
        };
        kind what = kind::begin;
        std::size_t events = 0;
        position commit_position;
        bool marked_last_event = false;  // commit: ends_transaction set on out.back()
        const relation_info* relation = nullptr;
        relation_change change = relation_change::unchanged;
        origin_message origin;    // views into the payload
        logical_message message;  // views into the payload
    };

    // `types` must outlive the decoder; Type messages are applied to it.
    explicit change_decoder(value_converter& types, change_decoder_options options = {});

    // Decodes one pgoutput message and appends its events to `out`. Throws laredo::error:
    // corrupt_data for a malformed message, one out of order (a row change outside a
    // transaction, a change for a relation never described), or a value that does not
    // convert; unsupported for binary values. After an error the session is not usable:
    // reconnect and reset_session().
    step feed(std::string_view payload, std::chrono::system_clock::time_point now,
              std::vector<change_event>& out);

    // The same for the payload of an XLogData message, with errors prefixed by its WAL
    // location ("pgoutput message in XLogData (wal_start 0/01568A48, wal_end ...): ..."), so a
    // protocol error in a log names where the stream broke.
    step feed(const xlog_data& message, std::chrono::system_clock::time_point now,
              std::vector<change_event>& out);

    // A keepalive's WAL end as a heartbeat position (transaction_tracker::heartbeat).
    std::optional<position> heartbeat(std::uint64_t wal_end) {
        return transactions_.heartbeat(wal_end);
    }

    // A new replication session: forget the open transaction; relations stay cached so a
    // definition that changed meanwhile is reported.
    void reset_session() noexcept { transactions_.reset(); }

    relation_cache& relations() noexcept { return relations_; }
    const relation_cache& relations() const noexcept { return relations_; }
    const transaction_tracker& transactions() const noexcept { return transactions_; }

  private:
    bool wanted(const relation_info& relation) const noexcept;
    change_event& start_event(const relation_info& relation, change_action action,
                              std::chrono::system_clock::time_point now,
                              std::vector<change_event>& out);

    value_converter& types_;
    change_decoder_options options_;
    relation_cache relations_;
    transaction_tracker transactions_;
    std::chrono::system_clock::time_point commit_time_{};
};

}  // namespace laredo::sources::postgres
