#include "laredo/server/http/server.hpp"

#include "laredo/server/http/tls.hpp"

#include "laredo/error.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/beast/websocket/ssl.hpp>

#include <atomic>
#include <functional>
#include <map>
#include <mutex>
#include <type_traits>

namespace laredo::server::http {

namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = beast::http;
namespace websocket = beast::websocket;
using asio::awaitable;
using asio::ip::tcp;
using std::chrono::milliseconds;
constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);

using beast_request = bhttp::request<bhttp::string_body>;
using beast_response = bhttp::response<bhttp::string_body>;

request convert(const beast_request& r, bool* ok) {
    request out;
    out.method = std::string(r.method_string());
    out.target = std::string(r.target());
    *ok = parse_target(out.target, out.segments, out.query);
    if (auto it = r.find(bhttp::field::authorization); it != r.end())
        out.authorization = std::string(it->value());
    if (auto it = r.find(bhttp::field::content_type); it != r.end())
        out.content_type = std::string(it->value());
    out.body = r.body();
    out.websocket_upgrade = websocket::is_upgrade(r);
    return out;
}

beast_response to_beast(const response& res, unsigned version, bool keep_alive) {
    beast_response out{static_cast<bhttp::status>(res.status), version};
    out.set(bhttp::field::server, "laredo-server");
    out.set(bhttp::field::content_type, res.content_type);
    out.set(bhttp::field::cache_control, "no-store");
    for (const auto& [k, v] : res.headers) out.set(k, v);
    out.keep_alive(keep_alive);
    out.body() = res.body;
    out.prepare_payload();
    return out;
}

}  // namespace

struct server::state : std::enable_shared_from_this<server::state> {
    state(asio::any_io_executor ex, config::listener_config l, config::http_limits lim,
          std::shared_ptr<handler> h)
        : executor(std::move(ex)),
          strand(asio::make_strand(executor)),
          listener(std::move(l)),
          limits(lim),
          handle(std::move(h)),
          acceptor(strand) {}

    asio::any_io_executor executor;
    asio::strand<asio::any_io_executor> strand;  // the acceptor's
    config::listener_config listener;
    config::http_limits limits;
    std::shared_ptr<handler> handle;
    tcp::acceptor acceptor;
    std::optional<asio::ssl::context> tls;
    std::atomic<std::uint16_t> port{0};
    std::atomic<bool> stopped{false};

    // Every open connection's closer (runs on any thread; posts onto the connection).
    mutable std::mutex mutex;
    std::map<std::uint64_t, std::function<void()>> closers;
    std::uint64_t next_id = 1;

    std::uint64_t track(std::function<void()> closer) {
        std::lock_guard lock(mutex);
        const auto id = next_id++;
        closers.emplace(id, std::move(closer));
        return id;
    }
    void untrack(std::uint64_t id) {
        std::lock_guard lock(mutex);
        closers.erase(id);
    }
    std::size_t count() const {
        std::lock_guard lock(mutex);
        return closers.size();
    }

    awaitable<void> accept_loop();
    awaitable<void> start_connection(tcp::socket socket);
    template <class Stream>
    awaitable<void> serve(Stream& stream, beast::flat_buffer& buffer);
    template <class Stream>
    awaitable<void> serve_websocket(Stream stream, beast_request req,
                                    std::shared_ptr<message_feed> feed);
    template <class Stream>
    awaitable<bool> write(Stream& stream, const response& res, unsigned version, bool keep_alive);
    awaitable<void> hand_over(beast::tcp_stream& stream, beast_request req,
                              const handler::takeover& takeover);
};

// The stream moves to the takeover; stopping the server cancels it (terminal cancellation
// closes the connection), through a signal the closer emits on the connection's executor.
awaitable<void> server::state::hand_over(beast::tcp_stream& stream, beast_request req,
                                         const handler::takeover& takeover) {
    auto self = shared_from_this();
    auto ex = stream.get_executor();
    stream.expires_never();
    boost::system::error_code peer_ec;
    const auto remote = stream.socket().remote_endpoint(peer_ec);
    std::string peer;
    if (!peer_ec) {
        const auto address = remote.address().to_string();
        peer = (remote.address().is_v6() ? "[" + address + "]" : address) + ":" +
               std::to_string(remote.port());
    }
    auto signal = std::make_shared<asio::cancellation_signal>();
    auto cancel = [signal, ex] {
        auto emit = [signal] { signal->emit(asio::cancellation_type::terminal); };
        asio::post(ex, emit);
    };
    const auto id = track(cancel);
    auto session = takeover(std::move(stream), std::move(req), std::move(peer));
    auto token = asio::bind_cancellation_slot(signal->slot(), asio::as_tuple(asio::use_awaitable));
    co_await asio::co_spawn(ex, std::move(session), token);
    untrack(id);
}

awaitable<void> server::state::accept_loop() {
    auto self = shared_from_this();
    while (!stopped) {
        tcp::socket socket(asio::make_strand(executor));
        auto [ec] = co_await acceptor.async_accept(socket, use_tuple);
        if (ec) {
            if (stopped || ec == asio::error::operation_aborted) co_return;
            // Out of file descriptors or a connection reset before accept: keep serving,
            // after a pause so a persistent failure does not spin.
            asio::steady_timer pause(strand, milliseconds(50));
            co_await pause.async_wait(use_tuple);
            continue;
        }
        if (count() >= limits.max_connections) {
            boost::system::error_code ignored;
            socket.close(ignored);
            continue;
        }
        auto ex = socket.get_executor();
        asio::co_spawn(ex, start_connection(std::move(socket)), asio::detached);
    }
}

awaitable<void> server::state::start_connection(tcp::socket socket) {
    auto self = shared_from_this();
    auto ex = socket.get_executor();
    beast::flat_buffer buffer;
    if (!tls) {
        auto plain = std::make_shared<beast::tcp_stream>(std::move(socket));
        // The closer may run after the connection ended: it holds the stream weakly.
        std::weak_ptr<beast::tcp_stream> weak = plain;
        auto close = [weak, ex] {
            auto shut = [weak] {
                if (auto p = weak.lock()) {
                    boost::system::error_code ignored;
                    p->socket().shutdown(tcp::socket::shutdown_both, ignored);
                    p->socket().close(ignored);
                }
            };
            asio::post(ex, shut);
        };
        const auto id = track(close);
        co_await serve(*plain, buffer);
        untrack(id);
        co_return;
    }
    auto secure = std::make_shared<beast::ssl_stream<beast::tcp_stream>>(std::move(socket), *tls);
    std::weak_ptr<beast::ssl_stream<beast::tcp_stream>> weak = secure;
    auto close = [weak, ex] {
        auto shut = [weak] {
            if (auto p = weak.lock()) {
                boost::system::error_code ignored;
                beast::get_lowest_layer(*p).socket().close(ignored);
            }
        };
        asio::post(ex, shut);
    };
    const auto id = track(close);
    beast::get_lowest_layer(*secure).expires_after(limits.request_timeout);
    auto [ec] = co_await secure->async_handshake(asio::ssl::stream_base::server, use_tuple);
    if (!ec) co_await serve(*secure, buffer);
    untrack(id);
}

template <class Stream>
awaitable<bool> server::state::write(Stream& stream, const response& res, unsigned version,
                                     bool keep_alive) {
    auto out = to_beast(res, version, keep_alive);
    beast::get_lowest_layer(stream).expires_after(limits.request_timeout);
    auto [ec, n] = co_await bhttp::async_write(stream, out, use_tuple);
    co_return !ec;
}

template <class Stream>
awaitable<void> server::state::serve(Stream& stream, beast::flat_buffer& buffer) {
    auto self = shared_from_this();
    for (;;) {
        if (stopped) break;
        bhttp::request_parser<bhttp::string_body> parser;
        parser.header_limit(limits.max_header_bytes);
        parser.body_limit(limits.max_body_bytes);
        // Waiting for the next request (and its header) is bounded by the idle timeout: a
        // half-open or silent connection is closed.
        beast::get_lowest_layer(stream).expires_after(limits.idle_timeout);
        auto [ec, n] = co_await bhttp::async_read_header(stream, buffer, parser, use_tuple);
        if (ec == bhttp::error::header_limit) {
            co_await write(stream,
                           response::error(431, "header_too_large", "request header too large"), 11,
                           false);
            break;
        }
        if (ec == bhttp::error::body_limit) {
            // A Content-Length beyond the limit is refused as soon as the header is read.
            co_await write(stream,
                           response::error(413, "body_too_large",
                                           "request body larger than " +
                                               std::to_string(limits.max_body_bytes) + " bytes"),
                           11, false);
            break;
        }
        if (ec == bhttp::error::end_of_stream || ec == beast::error::timeout ||
            ec == asio::error::eof || ec == asio::error::connection_reset ||
            ec == asio::error::operation_aborted || ec == asio::ssl::error::stream_truncated ||
            ec == asio::error::bad_descriptor)
            break;
        if (ec) {
            co_await write(
                stream,
                response::error(400, "bad_request", "malformed HTTP request: " + ec.message()), 11,
                false);
            break;
        }
        beast::get_lowest_layer(stream).expires_after(limits.request_timeout);
        if (!parser.is_done()) {
            auto [body_ec, body_n] = co_await bhttp::async_read(stream, buffer, parser, use_tuple);
            if (body_ec == bhttp::error::body_limit) {
                co_await write(
                    stream,
                    response::error(413, "body_too_large",
                                    "request body larger than " +
                                        std::to_string(limits.max_body_bytes) + " bytes"),
                    11, false);
                break;
            }
            if (body_ec) {
                if (body_ec != beast::error::timeout && body_ec != asio::error::eof &&
                    body_ec != bhttp::error::end_of_stream &&
                    body_ec != asio::error::connection_reset &&
                    body_ec != asio::error::operation_aborted)
                    co_await write(stream,
                                   response::error(400, "bad_request",
                                                   "malformed HTTP request: " + body_ec.message()),
                                   11, false);
                break;
            }
        }
        beast_request req = parser.release();
        bool ok = true;
        request converted = convert(req, &ok);
        const bool keep_alive = req.keep_alive() && !stopped;
        if (!ok) {
            if (!co_await write(
                    stream,
                    response::error(400, "bad_request", "malformed percent escape in the URL"),
                    req.version(), keep_alive) ||
                !keep_alive)
                break;
            continue;
        }
        if (converted.websocket_upgrade) {
            auto up = handle->websocket(converted, listener);
            if (up.feed) {
                beast::get_lowest_layer(stream).expires_never();
                co_await serve_websocket<Stream&>(stream, std::move(req), std::move(up.feed));
                co_return;
            }
            if (up.hand_over) {
                if constexpr (std::is_same_v<Stream, beast::tcp_stream>) {
                    co_await hand_over(stream, std::move(req), up.hand_over);
                    co_return;
                } else {
                    up.refusal = response::error(
                        501, "not_on_tls",
                        "this stream is served on listeners without TLS only (terminate TLS in "
                        "front of the server, or use a plain listener)");
                }
            }
            if (!co_await write(stream, up.refusal, req.version(), false)) break;
            break;
        }
        response res = co_await handle->handle(std::move(converted), listener);
        if (!co_await write(stream, res, req.version(), keep_alive) || !keep_alive) break;
    }
    boost::system::error_code ignored;
    beast::get_lowest_layer(stream).socket().shutdown(tcp::socket::shutdown_send, ignored);
    beast::get_lowest_layer(stream).close();
}

namespace {

// The state the three coroutines of one WebSocket connection share (all on its strand).
struct ws_shared {
    using clock = std::chrono::steady_clock;
    clock::time_point write_deadline = clock::time_point::max();
    clock::time_point writer_done_at = clock::time_point::max();
    bool reader_done = false;
};

// Clients only send control frames and the close; anything else is read and ignored. The end
// of reading (the client left) cancels the feed, which ends the writer.
template <class WS>
awaitable<void> ws_read_loop(WS& ws, message_feed& feed, ws_shared& shared) {
    beast::flat_buffer b;
    for (;;) {
        auto [ec, n] = co_await ws.async_read(b, use_tuple);
        if (ec) break;
        b.consume(b.size());
    }
    shared.reader_done = true;
    feed.cancel();
}

template <class WS>
awaitable<void> ws_write_loop(WS& ws, message_feed& feed, ws_shared& shared, milliseconds timeout) {
    for (;;) {
        auto messages = co_await feed.next();
        if (messages.empty()) break;
        bool failed = false;
        for (auto& m : messages) {
            shared.write_deadline = ws_shared::clock::now() + timeout;
            ws.text(true);
            auto [ec, n] = co_await ws.async_write(asio::buffer(m), use_tuple);
            shared.write_deadline = ws_shared::clock::time_point::max();
            if (ec) {
                failed = true;
                break;
            }
        }
        if (failed) break;
    }
    if (ws.is_open()) {
        const auto reason = feed.close_reason();
        websocket::close_reason cr(reason ? websocket::close_code::policy_error
                                          : websocket::close_code::going_away);
        // The reason travels in a control frame: at most 123 bytes.
        cr.reason = reason ? reason->substr(0, 123) : std::string("server stopping");
        shared.write_deadline = ws_shared::clock::now() + timeout;
        co_await ws.async_close(cr, use_tuple);
        shared.write_deadline = ws_shared::clock::time_point::max();
    }
    feed.cancel();
    shared.writer_done_at = ws_shared::clock::now();
}

// Closes the socket when a write takes too long (a client that stopped reading), or when the
// client does not answer our close in time: the other two coroutines then end.
template <class WS>
awaitable<void> ws_watchdog(WS& ws, message_feed& feed, ws_shared& shared, milliseconds period) {
    asio::steady_timer timer(co_await asio::this_coro::executor);
    for (;;) {
        timer.expires_after(period);
        co_await timer.async_wait(use_tuple);
        const auto now = ws_shared::clock::now();
        const bool writer_done = shared.writer_done_at != ws_shared::clock::time_point::max();
        if (writer_done && shared.reader_done) co_return;
        if (now > shared.write_deadline ||
            (writer_done && now > shared.writer_done_at + period * 4)) {
            feed.cancel();
            boost::system::error_code ignored;
            beast::get_lowest_layer(ws).socket().close(ignored);
        }
    }
}

}  // namespace

template <class Stream>
awaitable<void> server::state::serve_websocket(Stream stream, beast_request req,
                                               std::shared_ptr<message_feed> feed) {
    using namespace asio::experimental::awaitable_operators;
    auto self = shared_from_this();
    websocket::stream<Stream> ws(stream);
    ws.set_option(websocket::stream_base::timeout::suggested(beast::role_type::server));
    ws.read_message_max(64 * 1024);
    auto [accept_ec] = co_await ws.async_accept(req, use_tuple);
    if (accept_ec) co_return;
    const auto id = track([feed] { feed->cancel(); });
    ws_shared shared;
    const auto period = std::max(milliseconds(100), limits.request_timeout / 4);
    co_await (ws_read_loop(ws, *feed, shared) &&
              ws_write_loop(ws, *feed, shared, limits.request_timeout) &&
              ws_watchdog(ws, *feed, shared, period));
    untrack(id);
}

server::server(asio::any_io_executor executor, config::listener_config listener,
               config::http_limits limits, std::shared_ptr<handler> h)
    : state_(std::make_shared<state>(std::move(executor), std::move(listener), limits,
                                     std::move(h))) {}

server::~server() { stop(); }

void server::start() {
    auto& s = *state_;
    const auto where = s.listener.name + " listener (" + s.listener.address + ":" +
                       std::to_string(s.listener.port) + ")";
    if (s.listener.tls) s.tls.emplace(make_tls_context(*s.listener.tls));
    boost::system::error_code ec;
    const tcp::endpoint endpoint(asio::ip::make_address(s.listener.address), s.listener.port);
    s.acceptor.open(endpoint.protocol(), ec);
    if (!ec) s.acceptor.set_option(tcp::acceptor::reuse_address(true), ec);
    if (!ec) s.acceptor.bind(endpoint, ec);
    if (!ec) s.acceptor.listen(asio::socket_base::max_listen_connections, ec);
    if (ec) throw error(errc::invalid_config, "cannot listen on " + where + ": " + ec.message());
    s.port = s.acceptor.local_endpoint().port();
    asio::co_spawn(s.strand, s.accept_loop(), asio::detached);
}

void server::stop() {
    auto s = state_;
    if (s->stopped.exchange(true)) return;
    auto close_acceptor = [s] {
        boost::system::error_code ignored;
        s->acceptor.close(ignored);
    };
    asio::dispatch(s->strand, std::move(close_acceptor));
    std::map<std::uint64_t, std::function<void()>> closers;
    {
        std::lock_guard lock(s->mutex);
        closers = s->closers;
    }
    for (auto& [id, close] : closers) close();
}

std::uint16_t server::port() const { return state_->port; }
std::size_t server::connections() const { return state_->count(); }
const config::listener_config& server::listener() const { return state_->listener; }

}  // namespace laredo::server::http
