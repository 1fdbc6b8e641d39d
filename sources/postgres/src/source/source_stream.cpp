// postgres_source::stream and ack: the replication session, the standby status writer that
// keeps the server informed while the reader waits on backpressure, and the slot's health.

#include "source_impl.hpp"

#include "laredo/error.hpp"
#include "laredo/sources/postgres/lsn.hpp"
#include "laredo/sources/postgres/pg_error.hpp"
#include "laredo/sources/postgres/sql_quote.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <random>

namespace laredo::sources::postgres {

namespace asio = boost::asio;
using asio::awaitable;

namespace {

// Commits remembered for the lag in time; beyond this the oldest ones stand for the rest.
constexpr std::size_t max_unacked_commits = 100'000;

std::int64_t to_int64(std::string_view text) {
    std::int64_t v = 0;
    std::from_chars(text.data(), text.data() + text.size(), v);
    return v;
}

}  // namespace

void postgres_source::impl::end_replication() noexcept {
    replicating = false;
    status_timer.cancel();  // the writer sees the session is over
    replication.close();
    // A temporary slot goes with its connection.
    if (options.mode == slot_mode::ephemeral) slot_usable = false;
    exported.reset();
    batcher.reset();
}

awaitable<void> postgres_source::impl::slot_lost(const std::string& what) {
    slot_usable = false;
    const auto name = options.slot_name;
    if (options.on_slot_invalidated == slot_loss_policy::fail) {
        throw error(errc::source_failed,
                    fmt::format("replication slot {} {}; on_slot_invalidated = fail: a new slot "
                                "and a full baseline are needed (reset the source, or set "
                                "on_slot_invalidated = rebaseline)",
                                name, what));
    }
    if (recovering_lost_slot) {
        // Lost again before streaming started: the baseline outlasts the WAL the server keeps
        // for the slot, and another round would end the same way.
        std::string limit = "its value";
        try {
            if (replication.is_open()) {
                const auto r = co_await replication.query("SHOW max_slot_wal_keep_size");
                limit = std::string(r.value(0, 0));
            }
        } catch (const std::exception&) {
        }
        throw error(errc::source_failed,
                    fmt::format("replication slot {} {} again before streaming could start after "
                                "the re-baseline it caused: the baseline takes longer than the "
                                "WAL the server keeps for a slot allows (max_slot_wal_keep_size = "
                                "{}); raise max_slot_wal_keep_size (or -1 for no limit) and "
                                "restart",
                                name, what, limit));
    }
    recovering_lost_slot = true;
    throw error(
        errc::rebaseline_required,
        fmt::format("replication slot {} {}: a new slot and a new baseline follow", name, what));
}

awaitable<void> postgres_source::impl::prepare_stream() {
    // A stream() after an earlier one in this session (which ended): the new one starts over
    // from `from`, in a session of its own.
    if (replicating) end_replication();
    if (!replication.is_open()) co_await connect_replication();
    if (options.mode == slot_mode::ephemeral) {
        if (!slot_usable) {
            throw error(errc::rebaseline_required,
                        fmt::format("the temporary replication slot {} went with its connection: "
                                    "a new slot and a new baseline follow",
                                    options.slot_name));
        }
        co_return;
    }
    const auto slot = co_await detail::read_slot(replication, options.slot_name);
    if (!slot.exists || slot.lost()) {
        co_await slot_lost(slot.exists
                               ? "was invalidated (wal_status lost: the server removed WAL it "
                                 "still needed)"
                               : "no longer exists (dropped)");
    }
    if (slot.active) {
        // Often our own previous walsender, still exiting: retried with backoff.
        throw error(errc::transient,
                    fmt::format("replication slot {} is still in use by process {}",
                                options.slot_name, slot.active_pid));
    }
}

awaitable<void> postgres_source::impl::read_stream(change_handler& handler) {
    std::vector<copy_data> messages;
    messages.reserve(options.read_batch_messages);
    for (;;) {
        messages.clear();
        const auto n = co_await replication.read_copy_data(messages, options.read_batch_messages);
        if (n == 0) throw error(errc::transient, "PostgreSQL ended the replication stream");
        const auto now = std::chrono::system_clock::now();
        for (const auto& m : messages) {
            const auto fed = batcher.feed(m.view(), now, status);
            if (fed.reply_requested) {
                reply_requested = true;
                status_timer.cancel();  // the writer answers now
            }
            if (fed.relation && tables.contains(fed.relation->table)) {
                const auto& table = fed.relation->table;
                if (fed.relation->schema != schemas[table]) {
                    co_await refresh_table(table);
                    // The catalog's own schema when it agrees with the message.
                    schemas[table] = fed.relation->schema;
                }
            }
            if (fed.committed_at) note_commit(fed.commit_position.major(), *fed.committed_at);
            // A large transaction goes out in parts as it arrives.
            while (batcher.has_batch()) co_await deliver(handler, batcher.take());
        }
        batcher.end_of_read();
        while (batcher.has_delivery()) co_await deliver(handler, batcher.take());
    }
}

awaitable<void> postgres_source::impl::deliver(change_handler& handler,
                                               detail::stream_batcher::delivery d) {
    if (!d.changes.empty()) {
        last_delivered = d.changes.back().pos;
        // Suspends while the pipelines' buffers are full; the writer keeps the server
        // informed meanwhile.
        co_await handler.on_changes(std::move(d.changes));
    } else {
        last_delivered = d.heartbeat;
        co_await handler.on_heartbeat(std::move(d.heartbeat));
    }
}

awaitable<void> postgres_source::impl::send_status() {
    auto lock = co_await send_lock.acquire();
    if (!replicating || !replication.is_open()) co_return;
    const auto update = status.next_update(to_pg_timestamp(std::chrono::system_clock::now()));
    const auto bytes = encode_standby_status_update(update);
    co_await replication.send_copy_data(std::as_bytes(std::span(bytes)));
}

awaitable<void> postgres_source::impl::write_status_loop(std::shared_ptr<impl> self) {
    while (!self->stopping_tasks && self->replicating) {
        self->status_timer.expires_after(self->options.status_interval);
        boost::system::error_code ec;
        co_await self->status_timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
        if (self->stopping_tasks || !self->replicating) break;
        // The interval passed, or the server asked for a reply.
        self->reply_requested = false;
        try {
            co_await self->send_status();
        } catch (const std::exception&) {
            // A broken connection: the reader fails with it and the engine streams again.
        }
    }
    self->writer_running = false;
}

awaitable<void> postgres_source::impl::refresh_table(const table_identifier& table) {
    auto lock = co_await monitor_lock.acquire();
    if (!monitor.is_open()) {
        auto p = query_params();
        p.application_name += " (health)";
        co_await monitor.connect(p);
    }
    std::vector<std::string> keys;
    if (const auto k = options.key_columns.find(table); k != options.key_columns.end())
        keys = k->second;
    std::vector<std::string> column_list;
    if (const auto p = published.find(table); p != published.end()) column_list = p->second.columns;
    std::vector<detail::table_catalog> described;
    described.push_back(co_await detail::describe_table(monitor, table, column_list, keys));
    co_await detail::register_column_types(monitor, described, types);
    decoder.relations().set_catalog_schema(table, described.front().schema);
    decoder.relations().rebuild_schemas(table, types);
    tables[table] = std::move(described.front());
}

awaitable<void> postgres_source::impl::read_health() {
    auto lock = co_await monitor_lock.acquire();
    if (!monitor.is_open()) {
        auto p = query_params();
        p.application_name += " (health)";
        co_await monitor.connect(p);
    }
    const bool has_spill_stats = monitor.server_version() >= 140000;
    const auto r = co_await monitor.query(fmt::format(
        "SELECT (CASE WHEN pg_catalog.pg_is_in_recovery() THEN "
        "pg_catalog.pg_last_wal_receive_lsn() ELSE pg_catalog.pg_current_wal_lsn() END)::text, "
        "s.confirmed_flush_lsn::text, s.restart_lsn::text, coalesce(s.wal_status, ''), "
        "s.safe_wal_size, s.active, coalesce(s.active_pid, 0), {} "
        "FROM pg_catalog.pg_replication_slots s {} WHERE s.slot_name = {}",
        has_spill_stats ? "coalesce(st.spill_bytes, 0)" : "0",
        has_spill_stats ? "LEFT JOIN pg_catalog.pg_stat_replication_slots st ON "
                          "st.slot_name = s.slot_name"
                        : "",
        quote_literal(options.slot_name)));
    slot_health h;
    h.known = true;
    h.read_at = std::chrono::system_clock::now();
    if (r.rows() == 1) {
        const auto lsn = [&](std::size_t c) -> std::uint64_t {
            const auto v = r.get(0, c);
            return v ? parse_lsn(*v) : 0;
        };
        h.server_wal_lsn = lsn(0);
        h.confirmed_flush_lsn = lsn(1);
        h.restart_lsn = lsn(2);
        h.wal_status = r.value(0, 3);
        if (const auto safe = r.get(0, 4)) h.safe_wal_size = to_int64(*safe);
        h.active = r.value(0, 5) == "t";
        h.active_pid = static_cast<int>(to_int64(r.value(0, 6)));
        h.spill_bytes = to_int64(r.value(0, 7));
        h.lag_bytes = h.confirmed_flush_lsn && h.server_wal_lsn > h.confirmed_flush_lsn
                          ? static_cast<std::int64_t>(h.server_wal_lsn - h.confirmed_flush_lsn)
                          : 0;
        h.retained_wal_bytes = h.restart_lsn && h.server_wal_lsn > h.restart_lsn
                                   ? static_cast<std::int64_t>(h.server_wal_lsn - h.restart_lsn)
                                   : 0;
        server_wal_lsn = h.server_wal_lsn;
    } else {
        h.wal_status = "missing";
    }
    {
        std::lock_guard lock(shared_mutex);
        health = std::move(h);
    }
    update_lag();
}

awaitable<void> postgres_source::impl::monitor_loop(std::shared_ptr<impl> self) {
    while (!self->stopping_tasks) {
        try {
            co_await self->read_health();
        } catch (const std::exception&) {
            self->monitor.close();  // reconnects next time; health keeps its last reading
        }
        if (self->stopping_tasks) break;
        self->health_timer.expires_after(self->options.health_interval);
        boost::system::error_code ec;
        co_await self->health_timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
    }
    self->monitor.close();
    self->monitor_running = false;
}

void postgres_source::impl::start_tasks() {
    stopping_tasks = false;
    if (!writer_running) {
        writer_running = true;
        asio::co_spawn(strand, write_status_loop(shared_from_this()), asio::detached);
    }
    if (!monitor_running) {
        monitor_running = true;
        asio::co_spawn(strand, monitor_loop(shared_from_this()), asio::detached);
    }
}

void postgres_source::impl::stop_tasks() {
    stopping_tasks = true;
    status_timer.cancel();
    health_timer.cancel();
    monitor.close();  // aborts a health query in flight
}

void postgres_source::impl::note_commit(std::uint64_t end_lsn,
                                        std::chrono::system_clock::time_point at) {
    if (unacked_commits.size() < max_unacked_commits) unacked_commits.emplace_back(end_lsn, at);
}

void postgres_source::impl::note_acked(std::uint64_t lsn) {
    while (!unacked_commits.empty() && unacked_commits.front().first <= lsn)
        unacked_commits.pop_front();
    update_lag();
}

void postgres_source::impl::report_reconnect(const std::string& why) {
    std::lock_guard lock(shared_mutex);
    ++reconnects;
    last_disconnect = why;
}

void postgres_source::impl::update_lag() {
    lag_info l;
    std::lock_guard lock(shared_mutex);
    const std::uint64_t confirmed = std::max(status.acked(), health.confirmed_flush_lsn);
    if (server_wal_lsn != 0) {
        l.lag_bytes =
            server_wal_lsn > confirmed ? static_cast<std::int64_t>(server_wal_lsn - confirmed) : 0;
    }
    // How old the oldest delivered transaction the engine has not acknowledged is.
    l.lag_time = unacked_commits.empty()
                     ? std::chrono::microseconds(0)
                     : std::chrono::duration_cast<std::chrono::microseconds>(
                           std::chrono::system_clock::now() - unacked_commits.front().second);
    lag = l;
}

// ---------------------------------------------------------------------------------------

awaitable<void> postgres_source::impl::stream_session(const position& start,
                                                      change_handler& handler) {
    co_await prepare_stream();
    replication_start request;
    request.slot_name = options.slot_name;
    // The server moves a start below the slot's confirmed position up to it; a position
    // inside a transaction starts at that transaction, which comes again whole.
    request.start_lsn = start.empty() ? 0 : start.major();
    request.plugin_options = {{"proto_version", "1"},
                              {"publication_names", quote_identifier(options.publication_name())}};
    std::string refused;  // slot_lost() cannot be awaited inside the catch
    try {
        co_await replication.start_replication(request);
    } catch (const pg_error& e) {
        // 55000: the slot was invalidated (max_slot_wal_keep_size); 42704: it is gone.
        if (e.sqlstate() != "55000" && e.sqlstate() != "42704") throw;
        refused = e.what();
    }
    if (!refused.empty()) co_await slot_lost(fmt::format("cannot be streamed from ({})", refused));
    recovering_lost_slot = false;
    replicating = true;
    batcher.reset();
    start_tasks();
    state = paused ? source_state::paused : source_state::streaming;
    co_await read_stream(handler);
}

awaitable<void> postgres_source::impl::reconnect_pause(int attempt) {
    const auto& r = options.reconnect;
    double wait = static_cast<double>(r.initial_backoff.count());
    for (int i = 1; i < attempt; ++i) wait *= r.multiplier;
    wait = std::min(wait, static_cast<double>(r.max_backoff.count()));
    std::uniform_real_distribution<double> spread(1.0 - r.jitter, 1.0 + r.jitter);
    wait *= spread(random);
    asio::steady_timer timer(strand, std::chrono::milliseconds(static_cast<std::int64_t>(wait)));
    co_await timer.async_wait(asio::use_awaitable);
}

awaitable<void> postgres_source::stream(position from, change_handler& handler) {
    auto self = impl_;
    const auto cs = co_await asio::this_coro::cancellation_state;
    self->in_stream = true;
    self->stream_from = from;
    self->last_delivered.reset();
    position start = from;
    int attempts = 0;
    for (;;) {
        const auto began = std::chrono::steady_clock::now();
        std::exception_ptr failure;
        try {
            if (!self->initialized)
                throw error(errc::not_started, "PostgreSQL source: stream before init");
            if (attempts > 0) {
                self->state = source_state::reconnecting;
                co_await self->reconnect_pause(attempts);
                // The new session starts at the last ACK: the engine skips what it applied.
                if (self->acked) start = *self->acked;
                if (self->last_delivered) {
                    co_await handler.on_rewind(start);
                    self->last_delivered.reset();
                }
            }
            co_await self->stream_session(start, handler);
        } catch (...) {
            failure = std::current_exception();
        }
        self->in_stream = false;
        // Terminal cancellation (the engine stops reading) or close(): a normal end. The
        // replication connection stays open, so the engine's final ack() still reaches the
        // server.
        if (cs.cancelled() != asio::cancellation_type::none || self->closed) {
            if (!self->closed) self->state = source_state::connected;
            co_return;
        }
        // Whatever broke, this session is over.
        self->end_replication();
        errc code = errc::transient;
        std::string what;
        try {
            std::rethrow_exception(failure);
        } catch (const error& e) {
            what = e.what();
            if (e.code() == errc::corrupt_data) {
                // A protocol error is not data at rest that is corrupt: a new session reads
                // the same WAL again.
                code = errc::transient;
            } else if (e.code().category() == laredo_category()) {
                code = static_cast<errc>(e.code().value());
            }
        } catch (const boost::system::system_error& e) {
            what = e.what();
            if (is_fatal(e.code())) code = errc::source_failed;
        } catch (const std::exception& e) {
            what = e.what();
            code = errc::source_failed;
        }
        if (code != errc::transient) {
            self->state = code == errc::rebaseline_required ? source_state::reconnecting
                                                            : source_state::error;
            std::rethrow_exception(failure);
        }
        // A session that streamed for a while was a success: count the attempts anew.
        if (std::chrono::steady_clock::now() - began >= self->options.reconnect.healthy_after)
            attempts = 0;
        if (++attempts > self->options.reconnect.max_attempts) {
            self->state = source_state::error;
            throw error(errc::source_failed,
                        fmt::format("PostgreSQL replication stream: gave up after {} reconnect "
                                    "attempts; last failure: {}",
                                    self->options.reconnect.max_attempts, what));
        }
        self->report_reconnect(what);
    }
}

awaitable<void> postgres_source::ack(position pos) {
    auto self = impl_;
    if (pos.empty()) co_return;
    self->status.on_acked(pos);  // throws invalid_position for a foreign kind
    if (!self->acked || compare_positions(*self->acked, pos) < 0) self->acked = pos;
    self->note_acked(pos.major());
    if (self->replicating) co_await self->send_status();
}

}  // namespace laredo::sources::postgres
