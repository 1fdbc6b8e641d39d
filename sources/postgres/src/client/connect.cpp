// connection::connect: name resolution with Asio, then libpq's non-blocking connect.

#include "connection_impl.hpp"

#include "laredo/error.hpp"
#include "libpq_errors.hpp"
#include "libpq_options.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <algorithm>
#include <cstdlib>
#include <string>
#include <vector>

namespace laredo::sources::postgres {

namespace asio = boost::asio;
using asio::awaitable;
using asio::use_awaitable;
using asio::posix::descriptor_base;

namespace {

std::vector<std::string> split(const std::string& list) {
    std::vector<std::string> out;
    std::size_t start = 0;
    for (;;) {
        const auto comma = list.find(',', start);
        out.push_back(list.substr(start, comma == std::string::npos ? comma : comma - start));
        if (comma == std::string::npos) break;
        start = comma + 1;
    }
    return out;
}

// A failed TLS verification carries no SQLSTATE (libpq and OpenSSL detect it on the client), so
// classify_sqlstate would call it transient; retrying cannot fix a certificate, so it is fatal.
// libpq reports it only as text: OpenSSL's "certificate verify failed", libpq's host name check
// and its missing or unreadable certificate and key files.
bool is_tls_verification_failure(const pg_error::fields& f) {
    if (!f.sqlstate.empty()) return false;
    static constexpr std::string_view signs[] = {"certificate verify failed",
                                                 "does not match host name",
                                                 "root certificate file",
                                                 "could not read root certificate",
                                                 "certificate present, but not private key",
                                                 "could not load private key",
                                                 "could not read certificate file"};
    return std::any_of(std::begin(signs), std::end(signs), [&](std::string_view sign) {
        return f.message.find(sign) != std::string::npos;
    });
}

std::string join(const std::vector<std::string>& items) {
    std::string out;
    for (std::size_t i = 0; i < items.size(); ++i) {
        if (i) out += ',';
        out += items[i];
    }
    return out;
}

bool is_socket_directory(const std::string& host) {
    return !host.empty() && (host.front() == '/' || host.front() == '@');
}

std::string env(const char* name) {
    const char* v = std::getenv(name);
    return v ? std::string(v) : std::string();
}

void forward_notice(void* arg, const PGresult* r) {
    auto* d = static_cast<connection::impl*>(arg);
    if (!d->on_notice) return;
    auto field = [r](int code) -> std::string_view {
        const char* v = PQresultErrorField(r, code);
        return v ? v : "";
    };
    const pg_notice notice{field(PG_DIAG_SEVERITY_NONLOCALIZED), field(PG_DIAG_SQLSTATE),
                           field(PG_DIAG_MESSAGE_PRIMARY)};
    try {
        d->on_notice(notice);
    } catch (...) {
        // libpq calls us from C: nothing may propagate.
    }
}

}  // namespace

awaitable<void> connection::impl::connect(const connection_params& params) {
    using namespace asio::experimental::awaitable_operators;
    const std::string op = "connect";
    const bool limited = params.connect_timeout.count() > 0;
    asio::steady_timer deadline(executor);
    if (limited) deadline.expires_after(params.connect_timeout);
    auto timed_out = [&]() -> error {
        return error(errc::timeout, context(op) + ": timed out after " +
                                        std::to_string(params.connect_timeout.count()) + " s");
    };

    // libpq resolves names with a blocking getaddrinfo() inside PQconnectPoll. Resolve here
    // instead and hand libpq the addresses as `hostaddr`, keeping `host` beside them for
    // certificate verification and the password file. A name with several addresses becomes
    // several list entries, which libpq tries in turn.
    std::string host = params.host.empty() ? env("PGHOST") : params.host;
    std::string hostaddr;
    const bool caller_hostaddr = !env("PGHOSTADDR").empty() ||
                                 std::any_of(params.extra.begin(), params.extra.end(),
                                             [](const auto& kv) { return kv.first == "hostaddr"; });
    if (!host.empty() && !caller_hostaddr) {
        std::vector<std::string> hosts;
        std::vector<std::string> addrs;
        asio::ip::tcp::resolver resolver(executor);
        for (const auto& h : split(host)) {
            if (h.empty() || is_socket_directory(h)) {
                hosts.push_back(h);
                addrs.emplace_back();
                continue;
            }
            // Not cancellable per operation in this Asio version; the deadline is checked
            // right after (getaddrinfo has its own time limits).
            asio::ip::tcp::resolver::results_type results;
            try {
                results = co_await resolver.async_resolve(h, "", use_awaitable);
            } catch (const boost::system::system_error& e) {
                if (e.code() == asio::error::operation_aborted) throw;
                throw pg_error(context(op),
                               pg_error::fields{.sqlstate = "08001",
                                                .message = "could not resolve host name \"" + h +
                                                           "\": " + e.code().message()});
            }
            std::vector<std::string> seen;
            for (const auto& entry : results) {
                auto a = entry.endpoint().address().to_string();
                if (std::find(seen.begin(), seen.end(), a) != seen.end()) continue;
                seen.push_back(a);
                hosts.push_back(h);
                addrs.push_back(std::move(a));
            }
            if (limited && deadline.expiry() <= asio::steady_timer::clock_type::now())
                throw timed_out();
        }
        host = join(hosts);
        hostaddr = join(addrs);
    }

    const auto options = detail::make_libpq_options(params, host, hostaddr);
    const auto keywords = options.keywords();
    const auto values = options.values();
    conn = PQconnectStartParams(keywords.data(), values.data(), 0);
    if (!conn) throw std::bad_alloc();
    PQsetNoticeReceiver(conn, &forward_notice, this);
    // Verbose messages carry the SQLSTATE ("FATAL:  28P01: ..."): a failed connection has no
    // result to read it from, and the code decides whether reconnecting can help.
    PQsetErrorVerbosity(conn, PQERRORS_VERBOSE);
    if (PQstatus(conn) == CONNECTION_BAD) throw_connection_error(op);

    // As libpq's documentation says: start as if PQconnectPoll had asked for writing.
    PostgresPollingStatusType state = PGRES_POLLING_WRITING;
    for (;;) {
        if (state == PGRES_POLLING_OK) break;
        if (state == PGRES_POLLING_FAILED) {
            auto fields = detail::fields_from_message(PQerrorMessage(conn));
            if (is_tls_verification_failure(fields))
                throw pg_error(errc::source_failed, context(op), std::move(fields));
            throw pg_error(context(op), std::move(fields));
        }
        if (state == PGRES_POLLING_READING || state == PGRES_POLLING_WRITING) {
            // The socket may differ from the last step's (next address, SSL retry).
            attach_socket(op);
            const auto what = state == PGRES_POLLING_READING ? descriptor_base::wait_read
                                                             : descriptor_base::wait_write;
            if (limited) {
                // `||` ends when one side succeeds: a failed wait (the connection closed under
                // us) must count as done, or the deadline would run out before we notice.
                auto ready = co_await (socket.async_wait(what, asio::as_tuple(use_awaitable)) ||
                                       deadline.async_wait(use_awaitable));
                if (ready.index() == 1) throw timed_out();
                if (const auto [ec] = std::get<0>(ready); ec) throw boost::system::system_error(ec);
            } else {
                co_await socket.async_wait(what, use_awaitable);
            }
            detach_socket();
        }
        state = PQconnectPoll(conn);
    }

    PQsetErrorVerbosity(conn, PQERRORS_DEFAULT);
    if (PQsetnonblocking(conn, 1) != 0) throw_connection_error(op);
    attach_socket(op);
}

}  // namespace laredo::sources::postgres
