#include "slot.hpp"

#include "strand_signal.hpp"

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

#include <array>
#include <charconv>
#include <memory>

namespace laredo::sources::postgres::detail {

namespace asio = boost::asio;
using asio::awaitable;

namespace {

std::optional<std::uint64_t> optional_lsn(const query_result& r, std::size_t row,
                                          std::size_t column) {
    const auto text = r.get(row, column);
    if (!text) return std::nullopt;
    return parse_lsn(*text);
}

// What keeps CREATE_REPLICATION_SLOT waiting: sessions with a transaction that holds an xid.
awaitable<std::string> describe_blockers(connection& query, int replication_pid) {
    const auto pid = std::to_string(replication_pid);
    const std::array<query_param, 1> params{pid};
    const auto r = co_await query.query(
        "SELECT pid, coalesce(usename, ''), coalesce(application_name, ''), "
        "coalesce(extract(epoch FROM now() - xact_start)::bigint, 0) "
        "FROM pg_catalog.pg_stat_activity "
        "WHERE backend_xid IS NOT NULL AND pid <> $1::int ORDER BY xact_start",
        params);
    std::string out;
    for (std::size_t i = 0; i < r.rows(); ++i) {
        out += fmt::format("{}pid {} (user {}, application \"{}\", transaction open for {} s)",
                           out.empty() ? "" : ", ", r.value(i, 0), r.value(i, 1), r.value(i, 2),
                           r.value(i, 3));
    }
    co_return out.empty() ? std::string("no session holds an xid any more") : out;
}

struct creation_watch {
    explicit creation_watch(const asio::any_io_executor& ex) : timer(ex), done_signal(ex) {}
    asio::steady_timer timer;
    strand_signal done_signal;
    bool fired = false;
    bool done = false;
    std::string blockers;
};

// Sleeps for `timeout`, then says who blocks the creation and cancels it.
awaitable<void> watch_creation(std::shared_ptr<creation_watch> watch, connection& query,
                               int replication_pid, std::chrono::milliseconds timeout) {
    watch->timer.expires_after(timeout);
    boost::system::error_code ec;
    co_await watch->timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
    if (!ec) {
        watch->fired = true;
        try {
            watch->blockers = co_await describe_blockers(query, replication_pid);
            co_await query.cancel_backend(replication_pid);
        } catch (const std::exception& e) {
            watch->blockers = std::string("(could not look: ") + e.what() + ")";
        }
    }
    watch->done = true;
    watch->done_signal.notify();
}

}  // namespace

awaitable<slot_info> read_slot(connection& conn, const std::string& name) {
    // A simple query (no parameters), so it also runs on a replication connection.
    const auto r = co_await conn.query(
        "SELECT coalesce(s.plugin, ''), s.slot_type, coalesce(s.database, ''), s.temporary, "
        "s.active, coalesce(s.active_pid, 0), coalesce(s.wal_status, ''), "
        "s.confirmed_flush_lsn::text, s.restart_lsn::text "
        "FROM pg_catalog.pg_replication_slots s WHERE s.slot_name = " +
        quote_literal(name));
    slot_info s;
    if (r.rows() == 0) co_return s;
    s.exists = true;
    s.plugin = r.value(0, 0);
    s.slot_type = r.value(0, 1);
    s.database = r.value(0, 2);
    s.temporary = r.value(0, 3) == "t";
    s.active = r.value(0, 4) == "t";
    const auto pid = r.value(0, 5);
    std::from_chars(pid.data(), pid.data() + pid.size(), s.active_pid);
    s.wal_status = r.value(0, 6);
    s.confirmed_flush = optional_lsn(r, 0, 7);
    s.restart_lsn = optional_lsn(r, 0, 8);
    co_return s;
}

void check_slot_is_usable(const slot_info& slot, const std::string& name,
                          const std::string& database) {
    if (!slot.exists) return;
    std::string problem;
    if (slot.slot_type != "logical") {
        problem = "is a " + slot.slot_type + " slot";
    } else if (slot.plugin != "pgoutput") {
        problem = "uses output plugin " + slot.plugin + ", not pgoutput";
    } else if (slot.database != database) {
        problem = "belongs to database " + slot.database + ", not " + database;
    }
    if (problem.empty()) return;
    throw error(errc::invalid_config,
                fmt::format("replication slot {} already exists and {}: choose another slot_name, "
                            "or drop it (SELECT pg_drop_replication_slot('{}')) if it is unused",
                            name, problem, name));
}

awaitable<created_slot> create_slot(connection& replication, connection& query,
                                    const std::string& name, bool temporary, int server_version,
                                    std::chrono::milliseconds timeout) {
    const std::string sql =
        server_version >= 150000
            ? fmt::format("CREATE_REPLICATION_SLOT {}{} LOGICAL pgoutput (SNAPSHOT 'export')",
                          quote_identifier(name), temporary ? " TEMPORARY" : "")
            : fmt::format("CREATE_REPLICATION_SLOT {}{} LOGICAL pgoutput EXPORT_SNAPSHOT",
                          quote_identifier(name), temporary ? " TEMPORARY" : "");
    auto watch = std::make_shared<creation_watch>(co_await asio::this_coro::executor);
    asio::co_spawn(watch->timer.get_executor(),
                   watch_creation(watch, query, replication.backend_pid(), timeout),
                   asio::detached);
    query_result r;
    std::exception_ptr failure;
    try {
        r = co_await replication.query(sql);
    } catch (...) {
        failure = std::current_exception();
    }
    // The watch may be using `query`: the caller gets it back only once the watch is done.
    watch->timer.cancel();
    while (!watch->done) co_await watch->done_signal.wait();
    if (watch->fired && failure) {
        throw error(errc::timeout,
                    fmt::format("creating replication slot {} did not finish within {} ms: the "
                                "server waits for these transactions to end first: {}",
                                name, timeout.count(), watch->blockers));
    }
    if (failure) std::rethrow_exception(failure);
    if (r.rows() != 1 || r.columns() < 3) {
        throw error(errc::source_failed,
                    fmt::format("CREATE_REPLICATION_SLOT {} answered {} rows", name, r.rows()));
    }
    created_slot out;
    out.consistent_point = parse_lsn(r.value(0, 1));
    out.snapshot_name = r.value(0, 2);
    co_return out;
}

awaitable<bool> drop_slot(connection& conn, const std::string& name, int exiting_pid,
                          std::chrono::milliseconds patience) {
    // A walsender takes a moment to exit after its connection closed.
    constexpr auto exit_time = std::chrono::seconds(5);
    const auto started = std::chrono::steady_clock::now();
    auto slot = co_await read_slot(conn, name);
    while (slot.exists && slot.active) {
        const auto waited = std::chrono::steady_clock::now() - started;
        const bool ours = exiting_pid != 0 && slot.active_pid == exiting_pid;
        if (waited >= (ours ? std::chrono::milliseconds(exit_time) : patience)) break;
        asio::steady_timer pause(co_await asio::this_coro::executor, std::chrono::milliseconds(50));
        co_await pause.async_wait(asio::use_awaitable);
        slot = co_await read_slot(conn, name);
    }
    if (!slot.exists) co_return false;
    if (slot.active) {
        throw error(errc::invalid_config,
                    fmt::format("replication slot {} is in use by process {}: stop that process "
                                "(or SELECT pg_terminate_backend({})) before dropping the slot",
                                name, slot.active_pid, slot.active_pid));
    }
    std::string held_by;
    try {
        co_await conn.query("SELECT pg_catalog.pg_drop_replication_slot(" + quote_literal(name) +
                            ")");
    } catch (const pg_error& e) {
        // Taken between our look and the drop.
        if (e.sqlstate() != "55006") throw;
        held_by = e.server_message();
    }
    if (!held_by.empty()) {
        throw error(errc::invalid_config,
                    fmt::format("replication slot {} is in use by process: {}; stop that process "
                                "(or pg_terminate_backend it) before dropping the slot",
                                name, held_by));
    }
    co_return true;
}

}  // namespace laredo::sources::postgres::detail
