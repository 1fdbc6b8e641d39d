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
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <fmt/format.h>

#include <charconv>

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
        slot_usable = false;
        throw error(errc::rebaseline_required,
                    slot.exists
                        ? fmt::format("replication slot {} was invalidated (wal_status lost: the "
                                      "server removed WAL it still needed, see "
                                      "max_slot_wal_keep_size): a new slot and a new baseline "
                                      "follow",
                                      options.slot_name)
                        : fmt::format("replication slot {} no longer exists (dropped): a new slot "
                                      "and a new baseline follow",
                                      options.slot_name));
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

awaitable<void> postgres_source::stream(position from, change_handler& handler) {
    auto self = impl_;
    const auto cs = co_await asio::this_coro::cancellation_state;
    self->in_stream = true;
    self->stream_from = from;
    self->last_delivered.reset();
    std::exception_ptr failure;
    try {
        if (!self->initialized)
            throw error(errc::not_started, "PostgreSQL source: stream before init");
        co_await self->prepare_stream();
        replication_start start;
        start.slot_name = self->options.slot_name;
        // The server moves a start below the slot's confirmed position up to it; a position
        // inside a transaction starts at that transaction, which comes again whole.
        start.start_lsn = from.empty() ? 0 : from.major();
        start.plugin_options = {
            {"proto_version", "1"},
            {"publication_names", quote_identifier(self->options.publication_name())}};
        try {
            co_await self->replication.start_replication(start);
        } catch (const pg_error& e) {
            // 55000: the slot was invalidated (max_slot_wal_keep_size); 42704: it is gone.
            if (e.sqlstate() == "55000" || e.sqlstate() == "42704") {
                self->slot_usable = false;
                throw error(errc::rebaseline_required,
                            fmt::format("{}: a new slot and a new baseline follow", e.what()));
            }
            throw;
        }
        self->replicating = true;
        self->batcher.reset();
        self->start_tasks();
        self->state = self->paused ? source_state::paused : source_state::streaming;
        co_await self->read_stream(handler);
    } catch (...) {
        failure = std::current_exception();
    }
    self->in_stream = false;
    // Terminal cancellation (the engine stops reading) or close(): a normal end. The
    // replication connection stays open, so the engine's final ack() still reaches the server.
    if (cs.cancelled() != asio::cancellation_type::none || self->closed) {
        if (!self->closed) self->state = source_state::connected;
        co_return;
    }
    // Whatever broke, this session is over: the engine streams again from its last ACK.
    self->end_replication();
    try {
        std::rethrow_exception(failure);
    } catch (const error& e) {
        if (e.code() == errc::corrupt_data) {
            // A protocol error is not data at rest that is corrupt: a new session reads the
            // same WAL again.
            self->state = source_state::reconnecting;
            throw error(errc::transient,
                        fmt::format("PostgreSQL replication stream: {}; streaming again from the "
                                    "last ACK",
                                    e.what()));
        }
        self->state = e.code() == errc::rebaseline_required ? source_state::reconnecting
                      : is_fatal(e.code())                  ? source_state::error
                                                            : source_state::reconnecting;
        throw;
    } catch (const boost::system::system_error& e) {
        self->state = is_fatal(e.code()) ? source_state::error : source_state::reconnecting;
        throw;
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
