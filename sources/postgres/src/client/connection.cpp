#include "connection_impl.hpp"

#include "laredo/error.hpp"
#include "libpq_errors.hpp"

#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <openssl/ssl.h>

#include <fcntl.h>
#include <unistd.h>

#include <exception>
#include <string>
#include <vector>

namespace laredo::sources::postgres {

namespace asio = boost::asio;
using asio::awaitable;
using asio::use_awaitable;
using asio::posix::descriptor_base;

void copy_data::libpq_free::operator()(char* p) const noexcept { PQfreemem(p); }

// ------------------------------------------------------------------------------ impl basics

connection::impl::impl(executor_type ex) : executor(ex), socket(ex) {}

connection::impl::~impl() { close(); }

void connection::impl::detach_socket() noexcept {
    boost::system::error_code ignored;
    socket.close(ignored);
}

void connection::impl::attach_socket(std::string_view operation) {
    detach_socket();
    const int fd = PQsocket(conn);
    if (fd < 0) throw_connection_error(operation);
    const int own = ::fcntl(fd, F_DUPFD_CLOEXEC, 0);
    if (own < 0) {
        throw error(boost::system::error_code(errno, boost::system::system_category()),
                    context(operation) + ": cannot duplicate the libpq socket");
    }
    boost::system::error_code ec;
    socket.assign(own, ec);
    if (ec) {
        ::close(own);
        throw error(ec, context(operation) + ": cannot register the libpq socket");
    }
}

void connection::impl::close() noexcept {
    // Our descriptor first: it aborts pending waits, and libpq's own socket stays open for
    // the Terminate message PQfinish sends.
    detach_socket();
    if (conn) {
        PQfinish(conn);
        conn = nullptr;
    }
    in_progress = copy_both = copy_ended = client_ended = false;
}

std::string connection::impl::context(std::string_view operation) const {
    std::string out(operation);
    out += " [";
    out += description;
    out += ']';
    return out;
}

void connection::impl::require_ready(std::string_view operation, bool streaming) const {
    if (!conn) throw error(errc::not_started, context(operation) + ": connection is not open");
    if (PQstatus(conn) != CONNECTION_OK) {
        throw pg_error(context(operation),
                       pg_error::fields{.message = "the connection was lost; reconnect"});
    }
    if (streaming) {
        if (!copy_both)
            throw error(errc::invalid_argument, context(operation) +
                                                    ": the connection is not streaming "
                                                    "(call start_replication first)");
        return;
    }
    if (in_progress)
        throw error(errc::invalid_argument,
                    context(operation) + ": another operation is in progress on this connection" +
                        (copy_both ? " (replication streaming: end it with end_copy)" : ""));
}

[[noreturn]] void connection::impl::throw_connection_error(std::string_view operation) {
    auto fields = detail::fields_from_message(conn ? PQerrorMessage(conn) : "connection closed");
    if (fields.message.empty()) fields.message = "connection failure";
    const bool lost = !conn || PQstatus(conn) == CONNECTION_BAD;
    if (lost) throw pg_error(errc::transient, context(operation), std::move(fields));
    throw pg_error(context(operation), std::move(fields));
}

awaitable<void> connection::impl::wait(descriptor_base::wait_type what) {
    co_await socket.async_wait(what, use_awaitable);
    // close() after the wait completed but before we resumed: nothing left to read.
    if (!conn) {
        throw boost::system::system_error(asio::error::operation_aborted,
                                          context("wait") + ": connection closed");
    }
}

bool connection::impl::consume_input() noexcept {
    for (;;) {
        if (!PQconsumeInput(conn)) return false;
        auto* ssl = static_cast<SSL*>(PQsslStruct(conn, "OpenSSL"));
        if (!ssl || SSL_pending(ssl) <= 0) return true;
    }
}

awaitable<void> connection::impl::flush(std::string_view operation) {
    using namespace asio::experimental::awaitable_operators;
    for (;;) {
        const int r = PQflush(conn);
        if (r == 0) co_return;
        if (r < 0) throw_connection_error(operation);
        auto ready = co_await (socket.async_wait(descriptor_base::wait_write, use_awaitable) ||
                               socket.async_wait(descriptor_base::wait_read, use_awaitable));
        if (ready.index() == 1 && !consume_input()) throw_connection_error(operation);
    }
}

awaitable<detail::result_ptr> connection::impl::next_result() {
    while (PQisBusy(conn)) {
        // A broken connection has no socket left: PQgetResult then reports the failure
        // (with the server's last error, e.g. 57P01) without blocking.
        if (PQstatus(conn) == CONNECTION_BAD) break;
        co_await wait(descriptor_base::wait_read);
        if (!consume_input()) {
            if (PQstatus(conn) == CONNECTION_BAD) break;
            throw_connection_error("read");
        }
    }
    co_return detail::result_ptr(PQgetResult(conn));
}

awaitable<void> connection::impl::send_query(std::string_view operation, std::string_view sql) {
    const std::string text(sql);  // libpq wants it NUL-terminated
    if (!PQsendQuery(conn, text.c_str())) throw_connection_error(operation);
    in_progress = true;
    co_await flush(operation);
}

awaitable<query_result> connection::impl::collect(std::string_view operation) {
    query_result last;
    std::exception_ptr failure;
    for (;;) {
        auto r = co_await next_result();
        if (!r) break;
        switch (PQresultStatus(r.get())) {
            case PGRES_COMMAND_OK:
            case PGRES_TUPLES_OK:
            case PGRES_EMPTY_QUERY:
                last = query_result(r.release());
                break;
            case PGRES_COPY_IN:
                // Refuse the data; the server answers with an error and goes idle.
                if (PQputCopyEnd(conn, "COPY FROM STDIN is not supported here") < 0)
                    throw_connection_error(operation);
                co_await flush(operation);
                if (!failure)
                    failure = std::make_exception_ptr(
                        error(errc::invalid_argument,
                              context(operation) + ": COPY FROM STDIN is not supported"));
                break;
            case PGRES_COPY_OUT: {
                // Read the unwanted data to the end so the connection stays usable.
                if (!failure)
                    failure = std::make_exception_ptr(
                        error(errc::invalid_argument,
                              context(operation) + ": COPY TO STDOUT needs copy_out()"));
                for (;;) {
                    char* buf = nullptr;
                    const int n = PQgetCopyData(conn, &buf, 1);
                    if (n > 0) {
                        PQfreemem(buf);
                    } else if (n == 0) {
                        co_await wait(descriptor_base::wait_read);
                        if (!consume_input() && PQstatus(conn) != CONNECTION_BAD)
                            throw_connection_error(operation);
                        if (PQstatus(conn) == CONNECTION_BAD) break;
                    } else {
                        break;
                    }
                }
                break;
            }
            case PGRES_COPY_BOTH:
                // There is no way back from CopyBoth other than ending the stream; a query()
                // caller did not mean to start one.
                close();
                throw error(errc::invalid_argument,
                            context(operation) +
                                ": replication commands that stream need start_replication()");
            default:
                if (!failure)
                    failure = std::make_exception_ptr(
                        pg_error(context(operation), detail::fields_from_result(r.get())));
                break;
        }
    }
    in_progress = false;
    if (failure) std::rethrow_exception(failure);
    if (PQstatus(conn) != CONNECTION_OK) throw_connection_error(operation);
    co_return last;
}

// ----------------------------------------------------------------------- public operations

namespace {

// Runs an operation body; when it is abandoned mid-command (cancelled, or a handler threw),
// the protocol state cannot be resumed, so the connection is closed.
template <typename T>
awaitable<T> guarded(connection::impl& d, awaitable<T> body) {
    try {
        co_return co_await std::move(body);
    } catch (...) {
        if (d.in_progress) d.close();
        throw;
    }
}

}  // namespace

connection::connection(executor_type executor) : impl_(std::make_unique<impl>(executor)) {}
connection::~connection() = default;
connection::connection(connection&&) noexcept = default;
connection& connection::operator=(connection&&) noexcept = default;

connection::executor_type connection::get_executor() const noexcept { return impl_->executor; }

bool connection::is_open() const noexcept {
    return impl_ && impl_->conn && PQstatus(impl_->conn) == CONNECTION_OK;
}

int connection::backend_pid() const noexcept {
    return impl_ && impl_->conn ? PQbackendPID(impl_->conn) : 0;
}

int connection::server_version() const noexcept {
    return impl_ && impl_->conn ? PQserverVersion(impl_->conn) : 0;
}

bool connection::uses_tls() const noexcept {
    return impl_ && impl_->conn && PQsslInUse(impl_->conn) == 1;
}

const std::string& connection::description() const noexcept { return impl_->description; }

void connection::set_notice_handler(notice_handler handler) {
    impl_->on_notice = std::move(handler);
}

void connection::close() noexcept {
    if (impl_) impl_->close();
}

awaitable<void> connection::connect(connection_params params) {
    auto& d = *impl_;
    d.close();
    d.description = params.describe();
    try {
        co_await d.connect(params);
    } catch (...) {
        d.close();
        throw;
    }
}

awaitable<query_result> connection::query(std::string_view sql) {
    auto& d = *impl_;
    d.require_ready("query");
    auto body = [](impl& d, std::string_view sql) -> awaitable<query_result> {
        co_await d.send_query("query", sql);
        co_return co_await d.collect("query");
    };
    co_return co_await guarded(d, body(d, sql));
}

awaitable<query_result> connection::query(std::string_view sql,
                                          std::span<const query_param> params) {
    auto& d = *impl_;
    d.require_ready("query");
    auto body = [](impl& d, std::string_view sql,
                   std::span<const query_param> params) -> awaitable<query_result> {
        const std::string text(sql);
        std::vector<std::string> values;
        values.reserve(params.size());
        std::vector<const char*> pointers;
        std::vector<int> lengths;
        for (const auto& p : params) {
            values.emplace_back(p ? std::string(*p) : std::string());
        }
        for (std::size_t i = 0; i < params.size(); ++i) {
            pointers.push_back(params[i] ? values[i].c_str() : nullptr);
            lengths.push_back(static_cast<int>(values[i].size()));
        }
        if (!PQsendQueryParams(d.conn, text.c_str(), static_cast<int>(params.size()), nullptr,
                               pointers.data(), lengths.data(), nullptr, 0))
            d.throw_connection_error("query");
        d.in_progress = true;
        co_await d.flush("query");
        co_return co_await d.collect("query");
    };
    co_return co_await guarded(d, body(d, sql, params));
}

awaitable<std::uint64_t> connection::copy_out(std::string_view copy_sql, chunk_handler handler,
                                              std::size_t max_chunk_bytes) {
    auto& d = *impl_;
    d.require_ready("copy_out");
    if (!handler) throw error(errc::invalid_argument, "copy_out needs a chunk handler");
    if (max_chunk_bytes == 0) max_chunk_bytes = 1;
    auto body = [](impl& d, std::string_view sql, chunk_handler& handler,
                   std::size_t max_chunk) -> awaitable<std::uint64_t> {
        constexpr std::string_view op = "copy_out";
        co_await d.send_query(op, sql);
        {
            auto first = co_await d.next_result();
            const auto status = first ? PQresultStatus(first.get()) : PGRES_FATAL_ERROR;
            if (status != PGRES_COPY_OUT) {
                std::exception_ptr failure;
                if (status == PGRES_FATAL_ERROR || status == PGRES_BAD_RESPONSE ||
                    status == PGRES_NONFATAL_ERROR) {
                    failure = std::make_exception_ptr(
                        pg_error(d.context(op), detail::fields_from_result(first.get())));
                } else {
                    failure = std::make_exception_ptr(error(
                        errc::invalid_argument, d.context(op) + ": the statement is not a COPY "
                                                                "... TO STDOUT"));
                    if (status == PGRES_COPY_IN &&
                        PQputCopyEnd(d.conn, "COPY FROM STDIN is not supported here") < 0)
                        d.throw_connection_error(op);
                }
                first.reset();
                if (status != PGRES_COPY_BOTH) {
                    try {
                        co_await d.collect(op);
                    } catch (...) {
                        // the first failure is the one to report
                    }
                }
                std::rethrow_exception(failure);
            }
        }

        std::string chunk;
        chunk.reserve(std::min<std::size_t>(max_chunk, 64 * 1024));
        std::size_t messages = 0;
        for (;;) {
            char* buf = nullptr;
            const int n = PQgetCopyData(d.conn, &buf, 1);
            if (n > 0) {
                if (!chunk.empty() && chunk.size() + static_cast<std::size_t>(n) > max_chunk) {
                    co_await handler(copy_chunk{chunk, messages});
                    chunk.clear();
                    messages = 0;
                }
                chunk.append(buf, static_cast<std::size_t>(n));
                PQfreemem(buf);
                ++messages;
                continue;
            }
            if (n == 0) {
                // Hand over what has arrived before waiting: the handler works while the
                // server keeps sending.
                if (!chunk.empty()) {
                    co_await handler(copy_chunk{chunk, messages});
                    chunk.clear();
                    messages = 0;
                }
                co_await d.wait(descriptor_base::wait_read);
                if (!d.consume_input()) {
                    if (PQstatus(d.conn) == CONNECTION_BAD) break;  // collect() reports it
                    d.throw_connection_error(op);
                }
                continue;
            }
            if (n == -2 && PQstatus(d.conn) != CONNECTION_BAD) d.throw_connection_error(op);
            break;  // -1: the COPY ended (CopyDone or an error; the result says which)
        }
        if (!chunk.empty() && PQstatus(d.conn) == CONNECTION_OK)
            co_await handler(copy_chunk{chunk, messages});
        const auto done = co_await d.collect(op);
        co_return done.affected_rows();
    };
    co_return co_await guarded(d, body(d, copy_sql, handler, max_chunk_bytes));
}

awaitable<bool> connection::cancel_backend(int pid) {
    // An integer cannot inject anything, and a simple query also works on a replication
    // connection.
    const auto result = co_await query("SELECT pg_cancel_backend(" + std::to_string(pid) + ")");
    co_return result.rows() == 1 && result.value(0, 0) == "t";
}

awaitable<bool> cancel_query(asio::any_io_executor executor, connection_params params, int pid) {
    params.replication = false;
    connection control(executor);
    co_await control.connect(std::move(params));
    const bool sent = co_await control.cancel_backend(pid);
    control.close();
    co_return sent;
}

}  // namespace laredo::sources::postgres
