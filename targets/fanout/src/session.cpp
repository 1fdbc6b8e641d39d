#include "session.hpp"

#include "laredo/error.hpp"
#include "laredo/replica/positions.hpp"
#include "laredo/targets/fanout/websocket.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/buffers_to_string.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/websocket.hpp>

#include <fmt/format.h>

namespace laredo::targets::fanout {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace websocket = beast::websocket;
using asio::awaitable;
using asio::use_awaitable;

namespace detail {

namespace {

constexpr auto use_tuple = asio::as_tuple(use_awaitable);
constexpr std::size_t max_request_bytes = 1 << 20;

// Where a row stands with a client's filter: an UPDATE that leaves it is a DELETE for that
// client, one that enters it an INSERT.
enum class verdict : std::uint8_t { send, skip, as_insert, as_delete };

replica::journal_entry decoded(const journal_entry& e) {
    replica::journal_entry out;
    out.sequence = e.sequence;
    out.pos = e.pos;
    out.commit_time = e.commit_time;
    out.action = e.action;
    if (!e.old_row.empty()) out.old_row = e.old_row.view().to_row(e.schema);
    if (!e.new_row.empty()) out.new_row = e.new_row.view().to_row(e.schema);
    for (const auto c : e.unchanged) out.unchanged.push_back(e.schema->column(c).name);
    out.end_of_transaction = e.end_of_transaction;
    return out;
}

}  // namespace

awaitable<void> wakeup::wait_until(std::chrono::steady_clock::time_point until) {
    if (!pending_) {
        timer_.expires_at(until);
        co_await timer_.async_wait(use_tuple);
    }
    pending_ = false;
}

session::session(std::shared_ptr<fanout_state> state, beast::tcp_stream stream, std::string peer)
    : state_(std::move(state)),
      options_(state_->options().clients),
      ws_(std::move(stream)),
      peer_(std::move(peer)),
      produce_(ws_.get_executor()),
      write_(ws_.get_executor()) {}

void session::on_journal_changed() {
    if (wake_posted_.exchange(true)) return;
    std::weak_ptr<session> weak = weak_from_this();
    asio::post(ws_.get_executor(), [weak] {
        if (auto s = weak.lock()) {
            s->wake_posted_ = false;
            s->produce_.notify();
        }
    });
}

void session::set_state(client_state s) {
    if (record_) record_->state = s;
}

// --- the queue ---

void session::push(std::string message) {
    if (closing_) return;
    queued_bytes_ += message.size();
    outbox_.push_back(std::move(message));
    if (record_) record_->queue_bytes = queued_bytes_;
    last_sent_ = clock::now();
    write_.notify();
}

void session::close(websocket::close_code code, std::string reason, bool drop) {
    if (closing_) return;
    if (drop) {
        outbox_.clear();
        queued_bytes_ = 0;
        if (record_) record_->queue_bytes = 0;
    }
    end_reason_ = reason;
    // A close frame's reason is limited to 123 bytes.
    if (reason.size() > 123) reason.resize(123);
    close_reason_ = websocket::close_reason(code, reason);
    closing_ = true;
    write_.notify();
}

void session::refuse(std::string_view code, std::string message, websocket::close_code close_code) {
    push(replica::encode(replica::error_message{std::string(code), message}));
    close(close_code, std::move(message));
}

awaitable<void> session::writer(std::shared_ptr<session> /*keep_alive*/) {
    try {
        for (;;) {
            while (outbox_.empty() && !closing_)
                co_await write_.wait_until(clock::time_point::max());
            if (outbox_.empty()) break;  // closing, everything written
            std::string message = std::move(outbox_.front());
            outbox_.pop_front();
            co_await ws_.async_write(asio::buffer(message), use_awaitable);
            queued_bytes_ -= std::min(queued_bytes_, message.size());
            if (record_) record_->queue_bytes = queued_bytes_;
            produce_.notify();  // room in the queue
        }
        if (!reader_done_) co_await ws_.async_close(close_reason_, use_tuple);
    } catch (const std::exception&) {
        // The connection failed (or was closed under us): nothing more to write.
    }
    writer_done_ = true;
    produce_.notify();
}

awaitable<void> session::reader(std::shared_ptr<session> /*keep_alive*/) {
    beast::flat_buffer buffer;
    for (;;) {
        // Pings are answered inside; anything the client sends after its sync is ignored.
        auto [ec, n] = co_await ws_.async_read(buffer, use_tuple);
        if (ec) break;
        buffer.consume(n);
    }
    reader_done_ = true;
    if (!closing_) close(websocket::close_code::normal, "the client closed the connection", true);
    produce_.notify();
    write_.notify();
}

// --- the connection ---

awaitable<void> session::run(beast::http::request<beast::http::string_body> request) {
    auto self = shared_from_this();
    const auto ex = ws_.get_executor();
    std::string failure;
    try {
        websocket::stream_base::timeout t{};
        t.handshake_timeout = options_.close_timeout;
        t.idle_timeout = std::chrono::seconds(300);
        t.keep_alive_pings = true;
        ws_.set_option(t);
        ws_.read_message_max(max_request_bytes);
        ws_.text(true);
        co_await ws_.async_accept(request, use_awaitable);

        beast::flat_buffer buffer;
        co_await ws_.async_read(buffer, use_awaitable);
        const std::string first = beast::buffers_to_string(buffer.data());
        buffer.consume(buffer.size());
        state_->log().subscribe(self);
        asio::co_spawn(ex, writer(self), asio::detached);
        asio::co_spawn(ex, reader(self), asio::detached);
        try {
            co_await serve(replica::decode_sync_request(first));
        } catch (const error& e) {
            if (e.code() != make_error_code(errc::invalid_argument)) throw;
            refuse("invalid_request", e.what(), websocket::close_code::policy_error);
        }
        // Let the writer send what is queued and the close frame, for a bounded time.
        const auto until = clock::now() + options_.close_timeout;
        while (!writer_done_ && clock::now() < until) co_await produce_.wait_until(until);
    } catch (const std::exception& e) {
        failure = e.what();
    }
    // Cancelled (the server stops): what follows still needs to await.
    const auto cs = co_await asio::this_coro::cancellation_state;
    if (cs.cancelled() != asio::cancellation_type::none) {
        co_await asio::this_coro::reset_cancellation_state();
        if (end_reason_.empty()) end_reason_ = "the server stopped";
    }
    if (end_reason_.empty()) end_reason_ = failure.empty() ? "connection ended" : failure;
    if (pin_) state_->log().unpin(*pin_);
    pin_.reset();
    if (record_) {
        state_->clients().remove(record_->session);
        if (auto* o = state_->observer()) {
            o->on_fanout_client_disconnected(state_->options().pipeline_id, client_id_,
                                             end_reason_);
        }
    }
    boost::system::error_code ignored;
    beast::get_lowest_layer(ws_).socket().close(ignored);
    write_.notify();
    // The reader and the writer end once the socket is closed; wait for them (bounded) so
    // nothing of this session runs after run() completes.
    const auto until = clock::now() + options_.close_timeout;
    while ((!writer_done_ || !reader_done_) && clock::now() < until) {
        co_await produce_.wait_until(until);
    }
}

awaitable<void> session::serve(replica::sync_request request) {
    client_id_ =
        request.client_id.empty()
            ? fmt::format("anon-{}", std::chrono::duration_cast<std::chrono::milliseconds>(
                                         std::chrono::system_clock::now().time_since_epoch())
                                         .count())
            : request.client_id;
    if (state_->draining().draining) {
        refuse("draining", "the server is draining: connect to another one",
               websocket::close_code::try_again_later);
        co_return;
    }
    record_ = state_->clients().add(client_id_, peer_);
    if (!record_) {
        refuse("max_clients",
               fmt::format("max clients reached ({} connected): try another server or later",
                           state_->clients().max()),
               websocket::close_code::try_again_later);
        co_return;
    }
    record_->filters = request.filters.size();
    filter_specs_ = request.filters;
    // A table still taking its first baseline: the client waits for it.
    while (!state_->ready() && !closing_) {
        if (state_->closed()) {
            close(websocket::close_code::going_away, "the table was closed");
            co_return;
        }
        co_await produce_.wait_until(clock::now() + options_.heartbeat_interval);
    }
    if (closing_ || !start_stream(request)) co_return;
    if (auto* o = state_->observer()) {
        o->on_fanout_client_connected(state_->options().pipeline_id, client_id_);
    }

    while (!closing_) {
        if (state_->closed()) {
            close(websocket::close_code::going_away, "the table was closed");
            break;
        }
        const auto d = state_->draining();
        if (d.generation != drain_generation_) {
            drain_generation_ = d.generation;
            if (d.draining) {
                send_goaway(d);
            } else {
                drain_deadline_.reset();
                set_state(caught_up_ ? client_state::live : client_state::catching_up);
            }
        }
        if (drain_deadline_ && clock::now() >= *drain_deadline_) {
            close(websocket::close_code::going_away, "the server is draining: reconnect", true);
            break;
        }
        const auto head = state_->log().current();
        // Room in the queue?
        if (queued_bytes_ >= options_.queue_bytes) {
            if (caught_up_ && options_.policy == slow_client_policy::disconnect) {
                close(websocket::close_code::policy_error,
                      fmt::format("slow consumer: {} bytes queued (limit {})", queued_bytes_,
                                  options_.queue_bytes),
                      true);
                break;
            }
            if (head.head_sequence > cursor_ + options_.max_lag_entries) {
                close(websocket::close_code::policy_error,
                      fmt::format("slow consumer: {} journal entries behind (limit {})",
                                  head.head_sequence - cursor_, options_.max_lag_entries),
                      true);
                break;
            }
            if (!told_backpressure_) {
                told_backpressure_ = true;
                if (auto* o = state_->observer()) {
                    o->on_fanout_client_backpressure(state_->options().pipeline_id, client_id_);
                }
            }
            co_await wait_for_work();
            continue;
        }
        told_backpressure_ = false;
        if (!state_->ready()) {
            co_await wait_for_work();  // a new copy of the table is being built
            continue;
        }
        auto read = state_->log().read_after(epoch_, cursor_, options_.entries_per_message);
        if (read.status == journal::read_status::epoch_changed) {
            send_snapshot();  // the table was replaced as a whole
            continue;
        }
        if (read.status == journal::read_status::gap) {
            close(websocket::close_code::policy_error,
                  "fell behind: the journal no longer holds the entries after sequence " +
                      std::to_string(cursor_) + "; reconnect to resume",
                  true);
            break;
        }
        if (!read.entries.empty()) {
            send_entries(read.entries);
            continue;
        }
        if (!caught_up_ && cursor_ >= head.head_sequence) {
            caught_up_ = true;
            if (!drain_deadline_) set_state(client_state::live);
            if (auto* o = state_->observer()) {
                o->on_fanout_client_caught_up(state_->options().pipeline_id, client_id_);
            }
        }
        send_heartbeat_if_due();
        co_await wait_for_work();
    }
}

awaitable<void> session::wait_for_work() {
    auto until = last_sent_ + options_.heartbeat_interval;
    if (drain_deadline_) until = std::min(until, *drain_deadline_);
    co_await produce_.wait_until(until);
}

// --- what is sent ---

bool session::start_stream(const replica::sync_request& request) {
    schema_ = state_->schema();
    try {
        filter_ = replica::row_filter(filter_specs_, *schema_);
    } catch (const error& e) {
        refuse("invalid_request", e.what(), websocket::close_code::policy_error);
        return false;
    }
    const auto& log = state_->log();
    replica::handshake h;
    h.table = state_->table();
    h.columns = schema_->columns();
    std::optional<std::uint64_t> resume;
    if (!request.last_position.empty()) {
        // A position decides alone: one the journal does not cover (older than what it
        // holds, or ahead of anything the server reached) takes a full snapshot.
        resume = log.resume_after_position(request.last_position);
        if (resume) h.mode = replica::sync_mode::delta;
    } else if (request.last_sequence > 0 &&
               log.covers_sequence(request.journal_id, request.last_sequence)) {
        resume = request.last_sequence;
        h.mode = replica::sync_mode::delta;
    } else if (!request.last_snapshot_id.empty()) {
        const auto snap = state_->find_snapshot(request.last_snapshot_id);
        if (snap && log.covers_sequence(snap->journal_id, snap->sequence) &&
            (request.last_sequence == 0 || request.last_sequence == snap->sequence)) {
            resume = snap->sequence;
            h.mode = replica::sync_mode::delta_from_snapshot;
            h.snapshot_id = snap->id;
        }
    }
    const auto s = log.current();
    h.journal_id = s.id;
    h.server_sequence = s.head_sequence;
    h.oldest_sequence = s.oldest_sequence;
    h.server_position = s.head_position;
    pin_ = state_->log().pin(resume.value_or(s.head_sequence));
    if (!resume) {
        h.mode = replica::sync_mode::full_snapshot;
        push(replica::encode(h));
        record_->set_mode(std::string(replica::to_string(h.mode)));
        send_snapshot();
        return true;
    }
    h.resume_sequence = *resume;
    epoch_ = s.id;
    cursor_ = *resume;
    record_->sequence = cursor_;
    record_->set_mode(std::string(replica::to_string(h.mode)));
    set_state(client_state::catching_up);
    push(replica::encode(h));
    return true;
}

void session::send_snapshot() {
    auto current = state_->schema();
    if (!current) return;
    if (*current != *schema_) {
        // New columns: the client hears them first, and the filter must still apply.
        schema_ = current;
        try {
            filter_ = replica::row_filter(filter_specs_, *schema_);
        } catch (const error& e) {
            refuse("invalid_request", std::string("the table's columns changed: ") + e.what(),
                   websocket::close_code::policy_error);
            return;
        }
        push(replica::encode(replica::schema_change{schema_->columns()}));
    }
    set_state(client_state::snapshot);
    // The newest retained snapshot, while the journal still holds everything after it and
    // that is less than the snapshot itself; otherwise a new one (which is retained).
    snapshot_ptr snap;
    const auto& log = state_->log();
    const auto s = log.current();
    for (const auto& candidate : state_->snapshots()) {
        if (log.covers_sequence(candidate->journal_id, candidate->sequence) &&
            s.head_sequence - candidate->sequence <=
                std::max<std::size_t>(candidate->size(), 1000)) {
            snap = candidate;
        }
        break;
    }
    if (!snap) {
        try {
            snap = state_->take_snapshot(true);
        } catch (const error&) {
            return;  // not ready after all: the loop waits for the new copy
        }
    }
    epoch_ = snap->journal_id;
    cursor_ = snap->sequence;
    cursor_position_ = snap->pos;
    cursor_at_boundary_ = true;
    open_transaction_ = false;
    if (pin_) state_->log().move_pin(*pin_, cursor_);
    caught_up_ = false;
    push(replica::encode(replica::snapshot_begin{snap->id, snap->journal_id, snap->sequence,
                                                 snap->pos, snap->size()}));
    std::uint64_t sent = 0;
    std::vector<row> batch;
    batch.reserve(options_.snapshot_rows_per_message);
    const auto flush = [&] {
        if (batch.empty()) return;
        sent += batch.size();
        push(replica::encode(replica::snapshot_rows{std::move(batch)}));
        batch.clear();
    };
    for (std::size_t i = 0; i < snap->size(); ++i) {
        const auto view = snap->row_at(i);
        if (!filter_.empty() &&
            !filter_.matches_by([&](std::size_t c) { return view[c].to_value(); })) {
            continue;
        }
        batch.push_back(view.to_row(snap->schema));
        if (batch.size() == options_.snapshot_rows_per_message) flush();
    }
    flush();
    push(replica::encode(replica::snapshot_end{snap->id, snap->sequence, snap->pos, sent}));
    record_->sequence = cursor_;
    set_state(drain_deadline_ ? client_state::draining : client_state::catching_up);
}

bool session::filter_matches(const journal_entry&, const packed_copy& r) const {
    if (r.empty()) return false;
    const auto view = r.view();
    return filter_.matches_by([&](std::size_t c) { return view[c].to_value(); });
}

void session::advance(std::uint64_t sequence, const position& pos, bool end_of_transaction) {
    cursor_ = sequence;
    if (!pos.empty()) cursor_position_ = pos;
    cursor_at_boundary_ = end_of_transaction;
}

bool session::send_entries(const std::vector<entry_ptr>& batch) {
    // Encoded entries are shared by every client without a filter; filtered clients get
    // their own encoding only for entries a filter turns into another action.
    std::vector<std::string_view> parts;
    std::deque<std::string> own;
    const auto finish = [&](const journal_entry& last) {
        push(replica::assemble_entries(parts, last.sequence, cursor_position_,
                                       last.end_of_transaction));
        parts.clear();
        own.clear();
    };
    bool sent = false;
    for (const auto& e : batch) {
        verdict v = verdict::send;
        if (!filter_.empty()) {
            switch (e->action) {
                case change_action::insert:
                    v = filter_matches(*e, e->new_row) ? verdict::send : verdict::skip;
                    break;
                case change_action::delete_:
                    v = filter_matches(*e, e->old_row) ? verdict::send : verdict::skip;
                    break;
                case change_action::update: {
                    const bool was = filter_matches(*e, e->old_row);
                    const bool is = filter_matches(*e, e->new_row);
                    v = was && is ? verdict::send
                        : was     ? verdict::as_delete
                        : is      ? verdict::as_insert
                                  : verdict::skip;
                    break;
                }
                case change_action::truncate:
                    break;
            }
        }
        advance(e->sequence, e->pos, e->end_of_transaction);
        if (v == verdict::skip) {
            // The transaction this client saw part of ends here: say so, in a message that
            // ends with it.
            if (e->end_of_transaction && open_transaction_) {
                finish(*e);
                open_transaction_ = false;
                sent = true;
            }
            continue;
        }
        if (v == verdict::send) {
            parts.push_back(e->wire());
        } else {
            auto d = decoded(*e);
            if (v == verdict::as_delete) {
                d.action = change_action::delete_;
                d.new_row = row();
                d.unchanged.clear();
            } else {
                d.action = change_action::insert;
                d.old_row = row();
            }
            own.push_back(replica::encode_entry(d));
            parts.push_back(own.back());
        }
        open_transaction_ = !e->end_of_transaction;
    }
    if (!parts.empty()) {
        finish(*batch.back());
        sent = true;
    }
    if (pin_) state_->log().move_pin(*pin_, cursor_);
    record_->sequence = cursor_;
    return sent;
}

void session::send_heartbeat_if_due() {
    if (clock::now() - last_sent_ < options_.heartbeat_interval) return;
    const auto s = state_->log().current();
    replica::heartbeat h;
    h.server_time = std::chrono::system_clock::now();
    if (s.id == epoch_ && cursor_ == s.boundary_sequence) {
        // At the journal's newest boundary: positions reached since are covered too.
        h.sequence = cursor_;
        h.pos = s.boundary_position;
        cursor_position_ = s.boundary_position;
    } else if (cursor_at_boundary_ && !open_transaction_) {
        h.sequence = cursor_;
        h.pos = cursor_position_;
    } else {
        last_sent_ = clock::now();  // mid-transaction: the rest is coming
        return;
    }
    push(replica::encode(h));
}

void session::send_goaway(const drain_state& d) {
    const auto left = d.deadline - std::chrono::system_clock::now();
    drain_deadline_ = clock::now() +
                      std::chrono::duration_cast<clock::duration>(std::max(left, decltype(left){}));
    set_state(client_state::draining);
    push(replica::encode(replica::goaway{d.reason, d.deadline, d.reconnect_to}));
}

}  // namespace detail

awaitable<void> serve_replication(std::shared_ptr<fanout_target> target, beast::tcp_stream stream,
                                  beast::http::request<beast::http::string_body> request,
                                  std::string peer) {
    auto s =
        std::make_shared<detail::session>(state_of(*target), std::move(stream), std::move(peer));
    co_await s->run(std::move(request));
}

}  // namespace laredo::targets::fanout
