#pragma once

// The replication protocol's messages: JSON text frames over a WebSocket, one message per
// frame, each an object with a "type". docs/fanout.md describes the exchange, and
// docs/fanout/<type>.schema.json holds a JSON Schema per message.
//
//   client -> server   sync (once, first)
//   server -> client   handshake, then snapshot_begin / snapshot_rows* / snapshot_end (a full
//                      snapshot), entries (journal entries), heartbeat, schema_change (a new
//                      snapshot follows), goaway, error (the server then closes)
//
// Rows are {"column": value} objects in laredo's JSON form of values (laredo/json/values.hpp),
// positions are in the wire form of laredo/replica/positions.hpp.

#include "laredo/column_definition.hpp"
#include "laredo/position.hpp"
#include "laredo/replica/filter.hpp"
#include "laredo/row.hpp"
#include "laredo/table_identifier.hpp"
#include "laredo/types.hpp"

#include <chrono>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace laredo::replica {

inline constexpr int protocol_version = 1;

using time_point = std::chrono::system_clock::time_point;

enum class sync_mode : std::uint8_t { full_snapshot, delta, delta_from_snapshot };
// "FULL_SNAPSHOT", "DELTA", "DELTA_FROM_SNAPSHOT".
std::string_view to_string(sync_mode m) noexcept;

// The client's first message: who it is, what it already has, what it wants.
struct sync_request {
    std::string client_id;  // empty: the server makes one up
    // What the client holds: the journal it followed (journal_id, last_sequence), its last
    // source position, the snapshot it was built from. Each may be empty/0.
    std::string journal_id;
    std::uint64_t last_sequence = 0;
    position last_position;
    std::string last_snapshot_id;
    std::vector<filter_spec> filters;
};

struct handshake {
    table_identifier table;
    sync_mode mode = sync_mode::full_snapshot;
    std::string journal_id;
    std::uint64_t server_sequence = 0;  // the newest entry's sequence
    std::uint64_t oldest_sequence = 0;  // the oldest entry the journal holds (0: none)
    std::uint64_t resume_sequence = 0;  // DELTA: entries after this one follow
    std::string snapshot_id;            // FULL_SNAPSHOT / DELTA_FROM_SNAPSHOT
    position server_position;           // where the table is
    std::vector<column_definition> columns;
};

struct snapshot_begin {
    std::string snapshot_id;
    std::string journal_id;       // the journal epoch the sequence belongs to
    std::uint64_t sequence = 0;   // the rows are the table as of this entry
    position pos;                 // ... and this source position
    std::uint64_t row_count = 0;  // rows of the snapshot before the client's filters
};

struct snapshot_rows {
    std::vector<row> rows;
};

struct snapshot_end {
    std::string snapshot_id;
    std::uint64_t sequence = 0;
    position pos;
    std::uint64_t rows_sent = 0;
};

// One change of the journal, as the client applies it. old_row: the row before (UPDATE,
// DELETE); new_row: the row after (INSERT, UPDATE), always whole: `unchanged` names the
// columns the upstream did not resend, which the server filled from the stored row.
struct journal_entry {
    std::uint64_t sequence = 0;
    position pos;
    std::optional<time_point> commit_time;
    change_action action = change_action::insert;
    row old_row;
    row new_row;
    std::vector<std::string> unchanged;
    bool end_of_transaction = true;
};

// Entries in order, then how far they take the client: the last journal entry they account
// for (a filter may have left it out) and whether a transaction ends there.
struct entries {
    std::vector<journal_entry> items;
    std::uint64_t last_sequence = 0;
    position last_position;
    bool end_of_transaction = true;
};

// Nothing to send for a while: the client is at (sequence, pos), at a transaction boundary.
struct heartbeat {
    std::uint64_t sequence = 0;
    position pos;
    time_point server_time{};
};

// The table's columns changed; a full snapshot of the new columns follows.
struct schema_change {
    std::vector<column_definition> columns;
};

// The server is going away: reconnect (to one of reconnect_to, if given) before `deadline`,
// when this stream ends. Until then it keeps serving.
struct goaway {
    std::string reason;
    time_point deadline{};
    std::vector<std::string> reconnect_to;
};

// Refused or failed; the server closes the connection after it. Codes: invalid_request,
// max_clients, draining, not_ready, internal.
struct error_message {
    std::string code;
    std::string message;
};

using server_message = std::variant<handshake, snapshot_begin, snapshot_rows, snapshot_end, entries,
                                    heartbeat, schema_change, goaway, error_message>;

// --- encoding (both sides) ---

std::string encode(const sync_request& m);
std::string encode(const handshake& m);
std::string encode(const snapshot_begin& m);
std::string encode(const snapshot_rows& m);
std::string encode(const snapshot_end& m);
std::string encode(const entries& m);
std::string encode(const heartbeat& m);
std::string encode(const schema_change& m);
std::string encode(const goaway& m);
std::string encode(const error_message& m);

// The pieces of an `entries` message, for a server that encodes each journal entry once and
// sends it to many clients: encode_entry() gives one element of "entries", and
// assemble_entries() the whole message around elements so encoded.
std::string encode_entry(const journal_entry& e);
std::string assemble_entries(std::span<const std::string_view> encoded_entries,
                             std::uint64_t last_sequence, const position& last_position,
                             bool end_of_transaction);

// --- decoding ---

// Throws errc::invalid_argument naming what is wrong (not JSON, not a sync message, a bad
// field or filter).
sync_request decode_sync_request(std::string_view text);

// `schema`: the columns rows are decoded with (from the handshake or the last schema_change);
// may be null for messages without rows. Throws errc::corrupt_data naming what is wrong (an
// unknown type, a missing field, rows without columns).
server_message decode_server_message(std::string_view text, const schema_ptr& schema);

}  // namespace laredo::replica
