#pragma once

#include "laredo/change_event.hpp"
#include "laredo/position.hpp"
#include "laredo/replica/filter.hpp"
#include "laredo/row.hpp"
#include "laredo/table_identifier.hpp"
#include "laredo/targets/memory/indexed_target.hpp"
#include "laredo/types.hpp"

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace laredo::replica {

struct client_options {
    // ws://host:port/v1/replication/schema.table, tried in order (the next one after a
    // failure or a GoAway, unless the GoAway names where to go).
    std::vector<std::string> servers;
    std::string token;      // sent as "Authorization: Bearer <token>" when set
    std::string client_id;  // shown in the server's status; empty: the server makes one up
    std::vector<filter_spec> filters;       // AND-ed, applied by the server in every phase
    std::vector<index_definition> indexes;  // secondary indexes of the local store
    // Where the replica is saved on stop() and loaded from on start(): a restart resumes from
    // its position instead of taking a full snapshot. Empty: nothing is saved.
    std::filesystem::path local_snapshot;
    std::chrono::milliseconds reconnect_initial{100};
    std::chrono::milliseconds reconnect_max{30'000};
    // A server silent for this long (no entry, no heartbeat) is taken as gone: reconnect.
    // Keep it above the server's heartbeat interval (5 s by default).
    std::chrono::milliseconds heartbeat_timeout{15'000};
    std::chrono::milliseconds connect_timeout{10'000};
    std::size_t max_message_bytes = 64u << 20;
};

// What the client applied, for a consumer that follows it (the cascading source): whole
// transactions in order, heartbeats, and resets (a full snapshot replaced the rows).
struct applied_update {
    enum class kind : std::uint8_t { changes, heartbeat, reset };
    kind what = kind::changes;
    std::vector<change_event> changes;  // changes: one transaction, the last ends it
    position pos;                       // the position the replica is at after this
    std::uint64_t generation = 0;       // bumped by every full snapshot
};

class update_feed {
  public:
    virtual ~update_feed() = default;
    // Called on the client's executor after each update is applied; the client reads no
    // more from the server until it completes (backpressure).
    virtual boost::asio::awaitable<void> on_applied(applied_update update) = 0;
};

struct client_status {
    bool connected = false;
    bool ready = false;
    std::string server;  // the stream's server
    std::string mode;    // of its last handshake
    std::string journal_id;
    std::uint64_t sequence = 0;
    position pos;
    std::string snapshot_id;  // the snapshot the rows were last loaded from
    std::uint64_t connects = 0;
    std::uint64_t full_snapshots = 0;
    std::uint64_t handoffs = 0;  // GoAways followed to another server without a gap
    std::string last_error;
};

// A live replica of one table served by a fan-out target: connects, takes a snapshot or the
// entries after its position, then applies every change as it comes, into a local keyed
// store (the indexed memory target: packed rows, secondary indexes, listeners, readers never
// see half a transaction). It reconnects by itself (backoff with jitter), takes a server that
// stays silent past heartbeat_timeout as gone, and follows a GoAway to another server without
// a gap: the old stream keeps applying until the new one has caught up, and changes both
// deliver are applied once (by source position).
//
// Threads: its coroutines run on the executor given, which must be a strand (or an
// io_context run by one thread); the reads below are safe from any thread.
class client {
  public:
    // Throws errc::invalid_config without servers, or for a server that is not a ws:// URL.
    client(boost::asio::any_io_executor executor, client_options options);
    ~client();
    client(const client&) = delete;
    client& operator=(const client&) = delete;

    // Loads the local snapshot (when there is one) and starts connecting. Once.
    void start();
    // Stops, closes the connection(s), saves the local snapshot. Completes when done.
    boost::asio::awaitable<void> stop();
    // Completes once the replica is in sync with a server (a snapshot loaded, or a delta
    // handshake over rows it had). Throws errc::stopped when stopped first.
    boost::asio::awaitable<void> wait_ready();
    // Opens a connection for `pos` and reports whether the server would resume from it
    // (DELTA) instead of sending a full snapshot; false when no server answers.
    boost::asio::awaitable<bool> server_covers(position pos);
    // The next connection resumes from `pos` (older than where the replica is: changes after
    // it are delivered again; the rows converge). Reconnects now.
    void resync_from(position pos);

    // Must be set before start() (and outlive the client's coroutines); called on the
    // executor.
    void set_feed(update_feed* feed);

    // --- reads: any thread ---
    bool ready() const noexcept;
    table_identifier table() const;
    schema_ptr schema() const;  // the columns from the server (nullptr before)
    std::optional<row> get(const std::vector<value>& key) const;
    std::size_t count() const;
    std::vector<row> rows() const;  // key order
    std::vector<row> lookup_index(std::string_view index, const std::vector<value>& values) const;
    client_status status() const;
    // The rows, the position they are as of and the generation, read together on the
    // executor (for the cascading source's baseline). Call it on the executor.
    struct consistent_rows {
        std::vector<row> rows;
        position pos;
        std::uint64_t generation = 0;
    };
    consistent_rows read_consistent() const;

    // Old and new version of each changed row after it is applied (see
    // indexed_target::listen); a full snapshot over existing rows announces the difference.
    [[nodiscard]] targets::memory::subscription listen(
        targets::memory::indexed_target::listener fn);

    struct impl;

  private:
    std::shared_ptr<impl> impl_;
};

}  // namespace laredo::replica
