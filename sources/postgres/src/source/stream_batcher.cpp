#include "stream_batcher.hpp"

#include <variant>

namespace laredo::sources::postgres::detail {

stream_batcher::stream_batcher(change_decoder& decoder, std::size_t batch_size)
    : decoder_(decoder), batch_size_(batch_size == 0 ? 1 : batch_size) {}

void stream_batcher::release_pending(bool keep_last) {
    if (pending_.empty() || (keep_last && pending_.size() == 1)) return;
    delivery d;
    if (keep_last) {
        change_event last = std::move(pending_.back());
        pending_.pop_back();
        d.changes = std::move(pending_);
        pending_.clear();
        pending_.push_back(std::move(last));
    } else {
        d.changes = std::move(pending_);
        pending_.clear();
    }
    ready_.push_back(std::move(d));
}

void stream_batcher::heartbeat(position pos) {
    // Only between transactions: whatever is pending is complete and goes first. A later
    // position covers the last commit's.
    release_pending(false);
    committed_.reset();
    if (!ready_.empty() && ready_.back().changes.empty()) {
        ready_.back().heartbeat = std::move(pos);
        return;
    }
    delivery d;
    d.heartbeat = std::move(pos);
    ready_.push_back(std::move(d));
}

stream_batcher::fed stream_batcher::feed(std::string_view copy_data,
                                         std::chrono::system_clock::time_point now,
                                         standby_status_tracker& status) {
    fed out;
    const auto message = parse_replication_message(copy_data);
    status.on_received(message);
    if (const auto* keepalive = std::get_if<primary_keepalive>(&message)) {
        out.reply_requested = keepalive->reply_requested;
        if (auto pos = decoder_.heartbeat(keepalive->wal_end)) heartbeat(std::move(*pos));
        return out;
    }
    const auto& data = std::get<xlog_data>(message);
    const auto step = decoder_.feed(data, now, pending_);
    using kind = change_decoder::step::kind;
    switch (step.what) {
        case kind::changes:
            // Hold the last back: the Commit may be the next message.
            if (pending_.size() > batch_size_) release_pending(true);
            break;
        case kind::commit:
            out.committed_at = from_pg_timestamp(decoder_.transactions().commit_time());
            out.commit_position = step.commit_position;
            if (step.marked_last_event) {
                committed_ = step.commit_position;
                if (pending_.size() >= batch_size_) release_pending(false);
            } else {
                // Nothing of ours in it (or all delivered and none held: cannot happen, the
                // last is always held): the commit still moves the ACK on.
                heartbeat(step.commit_position);
            }
            break;
        case kind::relation:
            if (step.relation && step.change != relation_change::unchanged) {
                out.relation = step.relation;
                out.change = step.change;
            }
            break;
        default:
            break;
    }
    return out;
}

void stream_batcher::end_of_read() {
    // Inside a transaction nothing is gained by going early: targets apply it when it ends,
    // and full batches go out as they fill.
    if (decoder_.transactions().in_transaction()) return;
    release_pending(false);
    if (committed_) heartbeat(*committed_);
}

stream_batcher::delivery stream_batcher::take() {
    delivery d = std::move(ready_.front());
    ready_.pop_front();
    return d;
}

void stream_batcher::reset() noexcept {
    pending_.clear();
    ready_.clear();
    committed_.reset();
    decoder_.reset_session();
}

}  // namespace laredo::sources::postgres::detail
