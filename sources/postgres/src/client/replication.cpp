// The replication half of connection: IDENTIFY_SYSTEM, START_REPLICATION and the CopyBoth
// stream, handed over as raw CopyData messages (framing and decoding live in src/protocol).

#include "connection_impl.hpp"

#include "laredo/error.hpp"
#include "laredo/sources/postgres/sql_quote.hpp"
#include "libpq_errors.hpp"

#include <boost/asio/use_awaitable.hpp>

#include <charconv>
#include <cstdio>
#include <exception>
#include <string>

namespace laredo::sources::postgres {

namespace asio = boost::asio;
using asio::awaitable;
using asio::posix::descriptor_base;

namespace {

bool valid_slot_name(std::string_view s) {
    if (s.empty() || s.size() > 63) return false;
    for (char c : s) {
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_')) return false;
    }
    return true;
}

bool valid_option_name(std::string_view s) {
    if (s.empty() || s.size() > 63 || (s.front() >= '0' && s.front() <= '9')) return false;
    for (char c : s) {
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_')) return false;
    }
    return true;
}

std::string format_lsn(std::uint64_t lsn) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%X/%X", static_cast<unsigned>(lsn >> 32),
                  static_cast<unsigned>(lsn & 0xffffffffu));
    return buf;
}

}  // namespace

int connection::impl::try_take(copy_data& out, std::string_view operation) {
    if (copy_ended) return -1;
    char* buf = nullptr;
    const int n = PQgetCopyData(conn, &buf, 1);
    if (n > 0) {
        out = detail::copy_data_access::adopt(buf, static_cast<std::size_t>(n));
        return n;
    }
    if (n == 0) return 0;
    if (n == -2 && PQstatus(conn) != CONNECTION_BAD) throw_connection_error(operation);
    // -1: CopyDone or another message (an error) ended the stream; -2 on a lost connection:
    // the results say which.
    copy_ended = true;
    return -1;
}

awaitable<void> connection::impl::await_input(std::string_view operation) {
    co_await wait(descriptor_base::wait_read);
    if (!consume_input()) {
        if (PQstatus(conn) == CONNECTION_BAD) {
            // Read the server's last words (e.g. FATAL 57P01) from the results.
            copy_ended = true;
            co_return;
        }
        throw_connection_error(operation);
    }
}

awaitable<void> connection::impl::finish_copy_both(std::string_view operation) {
    std::exception_ptr failure;
    for (;;) {
        auto r = co_await next_result();
        if (!r) break;
        const auto status = PQresultStatus(r.get());
        if (status == PGRES_COPY_IN) {
            // The server ended its side first; end ours so it can complete the command.
            if (PQputCopyEnd(conn, nullptr) < 0) throw_connection_error(operation);
            co_await flush(operation);
        } else if (status == PGRES_COPY_OUT || status == PGRES_COPY_BOTH) {
            // Only a lost connection gets here (libpq reports it through a fresh result):
            // nothing more can be read.
            if (PQstatus(conn) == CONNECTION_BAD) throw_connection_error(operation);
        } else if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) {
            if (!failure)
                failure = std::make_exception_ptr(
                    pg_error(context(operation), detail::fields_from_result(r.get())));
        }
    }
    in_progress = copy_both = copy_ended = client_ended = false;
    if (failure) std::rethrow_exception(failure);
    if (PQstatus(conn) != CONNECTION_OK) throw_connection_error(operation);
}

awaitable<system_identity> connection::identify_system() {
    const auto r = co_await query("IDENTIFY_SYSTEM");
    const auto systemid = r.find_column("systemid");
    const auto timeline = r.find_column("timeline");
    const auto xlogpos = r.find_column("xlogpos");
    const auto dbname = r.find_column("dbname");
    if (r.rows() != 1 || !systemid || !timeline || !xlogpos || !dbname) {
        throw error(errc::source_failed,
                    impl_->context("identify_system") +
                        ": unexpected answer to IDENTIFY_SYSTEM (is this a replication "
                        "connection?)");
    }
    system_identity id;
    id.system_id = std::string(r.value(0, *systemid));
    const auto tl = r.value(0, *timeline);
    std::from_chars(tl.data(), tl.data() + tl.size(), id.timeline);
    id.xlogpos = std::string(r.value(0, *xlogpos));
    if (auto db = r.get(0, *dbname)) id.dbname = std::string(*db);
    co_return id;
}

awaitable<void> connection::start_replication(replication_start options) {
    auto& d = *impl_;
    constexpr std::string_view op = "start_replication";
    d.require_ready(op);
    if (!valid_slot_name(options.slot_name)) {
        throw error(errc::invalid_argument, d.context(op) + ": invalid replication slot name \"" +
                                                options.slot_name +
                                                "\" (expected 1 to 63 of a-z, 0-9 and _)");
    }
    std::string command = "START_REPLICATION SLOT " + quote_identifier(options.slot_name) +
                          " LOGICAL " + format_lsn(options.start_lsn);
    if (!options.plugin_options.empty()) {
        command += " (";
        bool first = true;
        for (const auto& [name, value] : options.plugin_options) {
            if (!valid_option_name(name)) {
                throw error(errc::invalid_argument,
                            d.context(op) + ": invalid output plugin option name \"" + name + "\"");
            }
            if (!first) command += ", ";
            first = false;
            command += quote_identifier(name) + " " + quote_literal(value);
        }
        command += ')';
    }

    try {
        co_await d.send_query(op, command);
        auto first = co_await d.next_result();
        const auto status = first ? PQresultStatus(first.get()) : PGRES_FATAL_ERROR;
        if (status == PGRES_COPY_BOTH) {
            d.copy_both = true;
            co_return;
        }
        std::exception_ptr failure;
        if (first && status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) {
            failure = std::make_exception_ptr(
                pg_error(d.context(op), detail::fields_from_result(first.get())));
        } else {
            failure = std::make_exception_ptr(
                error(errc::source_failed, d.context(op) + ": the server did not start streaming"));
        }
        first.reset();
        try {
            co_await d.collect(op);
        } catch (...) {
            // the first failure is the one to report
        }
        std::rethrow_exception(failure);
    } catch (...) {
        if (d.in_progress && !d.copy_both) d.close();
        throw;
    }
}

awaitable<std::optional<copy_data>> connection::read_copy_data() {
    auto& d = *impl_;
    constexpr std::string_view op = "read_copy_data";
    d.require_ready(op, true);
    copy_data message;
    for (;;) {
        const int n = d.try_take(message, op);
        if (n > 0) co_return std::optional<copy_data>(std::move(message));
        if (n < 0) {
            co_await d.finish_copy_both(op);
            co_return std::nullopt;
        }
        co_await d.await_input(op);
    }
}

awaitable<std::size_t> connection::read_copy_data(std::vector<copy_data>& out,
                                                  std::size_t max_messages) {
    auto& d = *impl_;
    constexpr std::string_view op = "read_copy_data";
    d.require_ready(op, true);
    if (max_messages == 0) throw error(errc::invalid_argument, "read_copy_data: max_messages is 0");
    std::size_t got = 0;
    copy_data message;
    for (;;) {
        const int n = d.try_take(message, op);
        if (n > 0) {
            out.push_back(std::move(message));
            if (++got == max_messages) co_return got;
            continue;
        }
        if (got > 0) co_return got;  // the end, if it came, is reported by the next call
        if (n < 0) {
            co_await d.finish_copy_both(op);
            co_return 0;
        }
        co_await d.await_input(op);
    }
}

awaitable<void> connection::send_copy_data(std::span<const std::byte> message) {
    auto& d = *impl_;
    constexpr std::string_view op = "send_copy_data";
    d.require_ready(op, true);
    if (d.client_ended)
        throw error(errc::invalid_argument, d.context(op) + ": end_copy() was already called");
    for (;;) {
        const int r = PQputCopyData(d.conn, reinterpret_cast<const char*>(message.data()),
                                    static_cast<int>(message.size()));
        if (r == 1) break;
        if (r < 0) d.throw_connection_error(op);
        // 0: libpq's buffer is full (non-blocking mode); let the socket drain first.
        co_await d.flush(op);
    }
    co_await d.flush(op);
}

awaitable<void> connection::end_copy() {
    auto& d = *impl_;
    constexpr std::string_view op = "end_copy";
    d.require_ready(op, true);
    // After the server's own end, finish_copy_both answers it.
    if (d.client_ended || d.copy_ended) co_return;
    for (;;) {
        const int r = PQputCopyEnd(d.conn, nullptr);
        if (r == 1) break;
        if (r < 0) d.throw_connection_error(op);
        co_await d.flush(op);
    }
    d.client_ended = true;
    co_await d.flush(op);
}

}  // namespace laredo::sources::postgres
