#include "laredo/sources/fanout/fanout_source.hpp"

#include "resume_file.hpp"

#include "laredo/error.hpp"
#include "laredo/replica/positions.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <fmt/format.h>

#include <deque>

namespace laredo::sources::fanout {

namespace asio = boost::asio;
using asio::awaitable;
using asio::use_awaitable;
using clock = std::chrono::steady_clock;

namespace {

constexpr auto use_tuple = asio::as_tuple(use_awaitable);

// A condition for coroutines of one strand: notify() before wait_until() is not lost.
class signal {
  public:
    explicit signal(const asio::any_io_executor& ex) : timer_(ex) {}
    void notify() {
        pending_ = true;
        timer_.cancel();
    }
    awaitable<void> wait_until(clock::time_point until) {
        if (!pending_) {
            timer_.expires_at(until);
            co_await timer_.async_wait(use_tuple);
        }
        pending_ = false;
    }
    void cancel() { timer_.cancel(); }

  private:
    asio::steady_timer timer_;
    bool pending_ = false;
};

bool cancelled(asio::cancellation_state cs) {
    return cs.cancelled() != asio::cancellation_type::none;
}

}  // namespace

// What the replica applied, held until stream() hands it on. Everything runs on the strand.
class fanout_source::feed final : public replica::update_feed {
  public:
    feed(const asio::any_io_executor& ex, std::size_t limit)
        : limit_(limit), arrived_(ex), room_(ex) {}

    awaitable<void> on_applied(replica::applied_update update) override {
        // Bounded: past the limit the replica waits here and stops reading its server.
        while (queue_.size() >= limit_ && !closed_)
            co_await room_.wait_until(clock::time_point::max());
        if (closed_) co_return;
        queue_.push_back(std::move(update));
        arrived_.notify();
    }

    std::optional<replica::applied_update> pop() {
        if (queue_.empty()) return std::nullopt;
        auto u = std::move(queue_.front());
        queue_.pop_front();
        room_.notify();
        return u;
    }
    awaitable<void> wait(clock::time_point until) { co_await arrived_.wait_until(until); }
    void wake() { arrived_.notify(); }
    bool empty() const { return queue_.empty(); }
    void clear() {
        queue_.clear();
        room_.notify();
    }
    void close() {
        closed_ = true;
        queue_.clear();
        room_.notify();
        arrived_.notify();
    }

    // Every update after this position is held (or was handed on).
    position floor;

  private:
    const std::size_t limit_;
    std::deque<replica::applied_update> queue_;
    signal arrived_;
    signal room_;
    bool closed_ = false;
};

fanout_source::fanout_source(asio::any_io_executor executor, fanout_source_options options)
    : strand_(asio::make_strand(std::move(executor))),
      options_(std::move(options)),
      client_(std::make_shared<replica::client>(strand_, options_.client)),
      feed_(
          std::make_unique<feed>(strand_, std::max<std::size_t>(options_.max_pending_updates, 1))) {
    client_->set_feed(feed_.get());
}

fanout_source::~fanout_source() = default;

awaitable<table_schemas> fanout_source::init(const source_config& config) {
    state_ = source_state::connecting;
    if (!started_) {
        started_ = true;
        client_->start();
    }
    const auto until = clock::now() + options_.ready_timeout;
    asio::steady_timer timer(strand_);
    while (!client_->ready()) {
        if (clock::now() >= until) {
            const auto last = client_->status().last_error;
            throw error(
                errc::transient,
                fmt::format("fanout source: no server of {} got the replica in sync "
                            "within {} ms{}{}",
                            fmt::join(options_.client.servers, ", "),
                            options_.ready_timeout.count(), last.empty() ? "" : ": ", last));
        }
        timer.expires_after(std::chrono::milliseconds(2));
        co_await timer.async_wait(use_awaitable);
    }
    const auto served = client_->table();
    for (const auto& t : config.tables) {
        if (t != served) {
            throw error(errc::unknown_table,
                        fmt::format("fanout source: table {} is not served by {} (it serves {})",
                                    t.to_string(), fmt::join(options_.client.servers, ", "),
                                    served.to_string()));
        }
    }
    // From here on every update the replica applies is held for stream().
    const auto now = client_->read_consistent();
    feed_->clear();
    feed_->floor = now.pos;
    generation_ = now.generation;
    state_ = source_state::connected;
    table_schemas out;
    out[served] = client_->schema()->columns();
    co_return out;
}

awaitable<std::vector<validation_error>> fanout_source::validate_tables(
    const std::vector<table_identifier>& tables) {
    std::vector<validation_error> out;
    const auto served = client_->table();
    for (const auto& t : tables) {
        if (t != served) {
            out.push_back(
                {t, "TABLE_NOT_FOUND",
                 fmt::format("the fan-out server serves {}, not this table", served.to_string())});
        }
    }
    co_return out;
}

awaitable<position> fanout_source::baseline(const std::vector<table_identifier>& tables,
                                            baseline_sink& sink) {
    const auto served = client_->table();
    for (const auto& t : tables) {
        if (t != served) {
            throw error(errc::unknown_table,
                        fmt::format("fanout source: table {} is not served", t.to_string()));
        }
    }
    // On the strand the replica applies on: rows, position and generation belong together.
    auto snapshot = client_->read_consistent();
    generation_ = snapshot.generation;
    sink.on_estimate(served, snapshot.rows.size());
    std::vector<row> batch;
    for (auto& r : snapshot.rows) {
        batch.push_back(std::move(r));
        if (batch.size() >= options_.baseline_batch_rows) {
            co_await sink.on_rows(served, std::exchange(batch, {}));
        }
    }
    if (!batch.empty()) co_await sink.on_rows(served, std::move(batch));
    co_return snapshot.pos;
}

awaitable<void> fanout_source::stream(position from, change_handler& handler) {
    std::exception_ptr failure;
    try {
        co_await deliver(std::move(from), handler);
    } catch (...) {
        failure = std::current_exception();
    }
    // Cancelled while the handler held it (terminal cancellation): a normal end.
    if (failure && !cancelled(co_await asio::this_coro::cancellation_state)) {
        std::rethrow_exception(failure);
    }
    if (!closed_) state_ = source_state::connected;
}

awaitable<void> fanout_source::deliver(position from, change_handler& handler) {
    const auto table = client_->table();
    if (!from.empty() && !feed_->floor.empty() &&
        replica::compare_positions(from, feed_->floor) < 0) {
        // The replica is past `from` (a resume): the server sends what follows `from` again.
        feed_->clear();
        feed_->floor = from;
        client_->resync_from(from);
    }
    state_ = paused_ ? source_state::paused : source_state::streaming;
    std::optional<clock::time_point> alone_since;  // connected to no server since
    for (;;) {
        if (cancelled(co_await asio::this_coro::cancellation_state) || closed_) break;
        std::optional<replica::applied_update> u;
        if (!paused_) u = feed_->pop();
        if (!u) {
            const auto status = client_->status();
            if (status.connected) {
                alone_since.reset();
            } else if (!alone_since) {
                alone_since = clock::now();
            } else if (clock::now() - *alone_since >= options_.give_up_after) {
                state_ = source_state::error;
                throw error(errc::transient,
                            fmt::format("fanout source: no server of {} for {} ms{}{}",
                                        fmt::join(options_.client.servers, ", "),
                                        options_.give_up_after.count(),
                                        status.last_error.empty() ? "" : ": ", status.last_error));
            }
            const auto poll = std::min<clock::duration>(
                std::chrono::seconds(1),
                std::chrono::duration_cast<clock::duration>(options_.give_up_after) / 4);
            co_await feed_->wait(clock::now() + poll);
            continue;
        }
        switch (u->what) {
            case replica::applied_update::kind::reset:
                if (u->generation != generation_) {
                    throw error(errc::rebaseline_required,
                                fmt::format("fanout source: the server sent {} a full snapshot "
                                            "(its journal no longer covers the position, or the "
                                            "table was replaced upstream)",
                                            table.to_string()));
                }
                break;
            case replica::applied_update::kind::heartbeat:
                if (!from.empty() && replica::compare_positions(u->pos, from) <= 0) break;
                co_await handler.on_heartbeat(u->pos);
                break;
            case replica::applied_update::kind::changes: {
                std::vector<change_event> batch;
                batch.reserve(u->changes.size());
                for (auto& c : u->changes) {
                    if (!from.empty() && replica::compare_positions(c.pos, from) <= 0) continue;
                    c.table = table;
                    batch.push_back(std::move(c));
                }
                if (batch.empty()) break;
                batch.back().ends_transaction = true;
                // Behind by the time between this transaction's commit and the newest one the
                // replica holds for us (none: caught up).
                const auto committed = batch.back().commit_timestamp;
                lag_us_ = feed_->empty() || !committed
                              ? 0
                              : std::chrono::duration_cast<std::chrono::microseconds>(
                                    std::chrono::system_clock::now() - *committed)
                                    .count();
                co_await handler.on_changes(std::move(batch));
                break;
            }
        }
        feed_->floor = u->pos;
    }
}

awaitable<void> fanout_source::ack(position pos) {
    if (!options_.resume_file.empty()) detail::save_resume_position(options_.resume_file, pos);
    acked_ = std::move(pos);
    co_return;
}

awaitable<std::optional<position>> fanout_source::last_acked_position() {
    if (acked_) co_return acked_;
    if (options_.resume_file.empty()) co_return std::nullopt;
    co_return detail::load_resume_position(options_.resume_file);
}

awaitable<bool> fanout_source::can_resume_from(const position& pos) {
    if (!supports_resume() || pos.empty()) co_return false;
    co_return co_await client_->server_covers(pos);
}

int fanout_source::compare_positions(const position& a, const position& b) const {
    return replica::compare_positions(a, b);
}

std::string fanout_source::position_to_string(const position& pos) const {
    return replica::position_to_wire(pos);
}

position fanout_source::position_from_string(std::string_view text) const {
    return replica::position_from_wire(text);
}

awaitable<void> fanout_source::pause() {
    paused_ = true;
    if (state_ == source_state::streaming) state_ = source_state::paused;
    co_return;
}

awaitable<void> fanout_source::resume() {
    paused_ = false;
    if (state_ == source_state::paused) state_ = source_state::streaming;
    feed_->wake();
    co_return;
}

source_state fanout_source::state() const {
    const auto s = state_.load();
    if (s == source_state::streaming && !client_->status().connected) {
        return source_state::reconnecting;
    }
    return s;
}

lag_info fanout_source::lag() const {
    lag_info out;
    out.lag_time = std::chrono::microseconds(lag_us_.load());
    return out;
}

awaitable<void> fanout_source::close() {
    closed_ = true;
    feed_->close();
    co_await client_->stop();
    state_ = source_state::closed;
}

}  // namespace laredo::sources::fanout
