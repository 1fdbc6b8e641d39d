#pragma once

// Turns the messages of a replication stream into what the engine's change handler receives,
// without I/O: batches of change events (a transaction's last event marked, several small
// transactions per batch, a large one in parts) and heartbeats, in stream order.
//
// - The last event of an open transaction is held back until the next message shows whether
//   the transaction ends there, so the Commit can always mark a delivered event.
// - A Commit of a transaction without events for our tables, and a keepalive between
//   transactions, become a heartbeat (the ACK can move over WAL we do not care about).
//   Consecutive heartbeats collapse into the last one.
// - After the messages of one read (end_of_read), complete transactions go out, so a quiet
//   stream never keeps one waiting for more; an open one goes out in full batches only. They
//   are followed by a heartbeat at the last commit's end: a transaction's last event carries
//   its commit LSN, and only the end of the commit record tells the server it may skip it.

#include "laredo/change_event.hpp"
#include "laredo/position.hpp"
#include "laredo/sources/postgres/pgoutput_changes.hpp"
#include "laredo/sources/postgres/replication_framing.hpp"

#include <chrono>
#include <cstddef>
#include <deque>
#include <optional>
#include <string_view>
#include <vector>

namespace laredo::sources::postgres::detail {

class stream_batcher {
  public:
    // changes non-empty: a batch for on_changes; otherwise `heartbeat` for on_heartbeat.
    struct delivery {
        std::vector<change_event> changes;
        position heartbeat;
    };

    // What one message was, beyond events.
    struct fed {
        bool reply_requested = false;  // a keepalive asked for a status update now
        // A Relation message that changed (or first described) a table we read.
        const relation_info* relation = nullptr;
        relation_change change = relation_change::unchanged;
        // Commit time of the transaction that just ended (commit only).
        std::optional<std::chrono::system_clock::time_point> committed_at;
        position commit_position;
    };

    stream_batcher(change_decoder& decoder, std::size_t batch_size);

    // One CopyData message from the server ('w' XLogData or 'k' keepalive). The WAL end it
    // reports goes to `status` (what was received). Throws laredo::error(corrupt_data) for a
    // malformed or out-of-order message.
    fed feed(std::string_view copy_data, std::chrono::system_clock::time_point now,
             standby_status_tracker& status);

    // The messages that had arrived are all fed: release what is complete.
    void end_of_read();

    bool has_delivery() const noexcept { return !ready_.empty(); }
    // What should go out before the read ends: change batches, so memory stays bounded. A
    // heartbeat at the end of the queue waits, so that later ones collapse into it.
    bool has_batch() const noexcept {
        return ready_.size() > 1 || (ready_.size() == 1 && !ready_.front().changes.empty());
    }
    delivery take();

    // A new replication session: drop what was not delivered (the server sends it again).
    void reset() noexcept;

    // Events decoded but not yet released.
    std::size_t pending_events() const noexcept { return pending_.size(); }

  private:
    void release_pending(bool keep_last);
    void heartbeat(position pos);

    change_decoder& decoder_;
    std::size_t batch_size_;
    std::vector<change_event> pending_;
    std::deque<delivery> ready_;
    // The end of the last transaction whose events are pending or ready, for the heartbeat
    // that follows them.
    std::optional<position> committed_;
};

}  // namespace laredo::sources::postgres::detail
