#include "laredo/replica/client.hpp"

#include "replica_file.hpp"

#include "laredo/error.hpp"
#include "laredo/replica/messages.hpp"
#include "laredo/replica/positions.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>

#include <fmt/format.h>

#include <map>
#include <mutex>
#include <random>

namespace laredo::replica {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace websocket = beast::websocket;
using asio::awaitable;
using asio::use_awaitable;
using asio::ip::tcp;
using namespace std::chrono_literals;

namespace {

constexpr auto use_tuple = asio::as_tuple(use_awaitable);
using ws_stream = websocket::stream<beast::tcp_stream>;

struct ws_url {
    std::string host;
    std::string port;
    std::string path;
};

ws_url parse_url(const std::string& url) {
    constexpr std::string_view scheme = "ws://";
    if (!std::string_view(url).starts_with(scheme)) {
        throw error(errc::invalid_config,
                    fmt::format("replica: server \"{}\" is not a ws:// URL", url));
    }
    const auto rest = std::string_view(url).substr(scheme.size());
    const auto slash = rest.find('/');
    const auto authority = rest.substr(0, slash);
    const auto colon = authority.rfind(':');
    if (authority.empty() || colon == std::string_view::npos || colon + 1 == authority.size()) {
        throw error(errc::invalid_config,
                    fmt::format("replica: server \"{}\" needs a host and a port", url));
    }
    return {std::string(authority.substr(0, colon)), std::string(authority.substr(colon + 1)),
            slash == std::string_view::npos ? "/" : std::string(rest.substr(slash))};
}

awaitable<void> sleep_for(std::chrono::milliseconds d) {
    asio::steady_timer t(co_await asio::this_coro::executor, d);
    co_await t.async_wait(use_tuple);
}

}  // namespace

// One WebSocket to one server.
struct connection {
    std::uint64_t id = 0;
    std::string url;
    std::shared_ptr<ws_stream> ws;
    bool secondary = false;   // a GoAway's successor, not yet the stream
    bool superseded = false;  // its successor took over: end quietly
    bool handshake_done = false;
    replica::sync_mode mode = replica::sync_mode::full_snapshot;
    std::string journal_id;
    std::uint64_t sequence = 0;
    bool in_snapshot = false;
    bool rebuild = false;
    snapshot_begin snapshot;
    bool reached_ready = false;
    bool goaway_followed = false;
    std::size_t server = 0;  // its index in client_options::servers
};

struct client::impl : std::enable_shared_from_this<impl> {
    impl(asio::any_io_executor ex, client_options o)
        : executor(std::move(ex)),
          options(std::move(o)),
          store(std::make_shared<targets::memory::indexed_target>(
              targets::memory::indexed_target_options{.indexes = options.indexes})),
          primary_ended(executor) {
        if (options.servers.empty()) {
            throw error(errc::invalid_config, "replica: at least one server is needed");
        }
        for (const auto& s : options.servers) parse_url(s);
    }

    asio::any_io_executor executor;
    const client_options options;
    const std::shared_ptr<targets::memory::indexed_target> store;
    update_feed* feed = nullptr;

    // --- the executor's ---
    std::map<std::uint64_t, std::shared_ptr<connection>> conns;
    std::uint64_t primary = 0;
    std::uint64_t next_id = 0;
    std::size_t next_server = 0;
    position applied;  // where the rows are
    std::string snapshot_id;
    std::uint64_t generation = 0;
    std::vector<change_event> open;  // the transaction being received
    bool has_rows = false;           // the store holds a complete copy (file or snapshot)
    bool started = false;
    bool stopped = false;
    std::optional<position> resync;
    table_identifier table;
    schema_ptr schema;

    struct signal {
        explicit signal(const asio::any_io_executor& ex) : timer(ex) {}
        asio::steady_timer timer;
        bool pending = false;
        void notify() {
            pending = true;
            timer.cancel();
        }
        awaitable<void> wait(std::chrono::steady_clock::time_point until =
                                 std::chrono::steady_clock::time_point::max()) {
            if (!pending) {
                timer.expires_at(until);
                co_await timer.async_wait(use_tuple);
            }
            pending = false;
        }
    } primary_ended;

    // --- any thread ---
    mutable std::mutex status_mutex;
    client_status st;
    std::atomic<bool> ready{false};

    template <class F>
    void update_status(F f) {
        std::lock_guard lock(status_mutex);
        f(st);
    }

    awaitable<void> run();
    awaitable<void> run_connection(std::shared_ptr<connection> c);
    awaitable<std::shared_ptr<ws_stream>> open_ws(const std::string& url);
    sync_request request_for() const;
    void start_connection(std::size_t server, const std::string& url, bool secondary);
    void connection_ended(const std::shared_ptr<connection>& c, const std::string& why);
    void promote(const std::shared_ptr<connection>& c);
    // Applies one message; `out` gets what the feed must hear.
    awaitable<void> apply(const std::shared_ptr<connection>& c, server_message m,
                          std::vector<applied_update>& out);
    // Hands the open transaction to the store.
    awaitable<void> flush(std::vector<applied_update>& out);
    // The stream reached `pos` with nothing more for the replica.
    awaitable<void> reach(const position& pos, std::vector<applied_update>& out);
    awaitable<void> load_file();
    void save_file();
    bool feeding = false;  // one message is applied and fed at a time, whatever its stream
};

// --- lifecycle ---

client::client(asio::any_io_executor executor, client_options options)
    : impl_(std::make_shared<impl>(std::move(executor), std::move(options))) {}

client::~client() {
    auto i = impl_;
    asio::dispatch(i->executor, [i] {
        i->stopped = true;
        for (auto& [id, c] : i->conns) {
            boost::system::error_code ignored;
            beast::get_lowest_layer(*c->ws).socket().close(ignored);
        }
        i->primary_ended.notify();
    });
}

void client::set_feed(update_feed* feed) { impl_->feed = feed; }

void client::start() {
    auto i = impl_;
    asio::dispatch(i->executor, [i] {
        if (i->started) return;
        i->started = true;
        asio::co_spawn(i->executor, i->run(), asio::detached);
    });
}

awaitable<void> client::stop() {
    auto i = impl_;
    co_await asio::dispatch(asio::bind_executor(i->executor, use_awaitable));
    if (i->stopped && i->conns.empty()) co_return;
    i->stopped = true;
    i->ready = false;
    for (auto& [id, c] : i->conns) {
        if (!c->ws) continue;
        boost::system::error_code ignored;
        beast::get_lowest_layer(*c->ws).socket().close(ignored);
    }
    i->primary_ended.notify();
    for (int n = 0; n < 500 && !i->conns.empty(); ++n) co_await sleep_for(2ms);
    i->save_file();
    i->update_status([](client_status& s) {
        s.connected = false;
        s.ready = false;
    });
}

awaitable<void> client::wait_ready() {
    for (;;) {
        if (impl_->ready) co_return;
        if (impl_->stopped) throw error(errc::stopped, "replica: stopped before it was ready");
        co_await sleep_for(2ms);
    }
}

void client::resync_from(position pos) {
    auto i = impl_;
    asio::dispatch(i->executor, [i, pos] {
        i->resync = pos;
        // What follows `pos` comes again and is applied again (the rows converge): entries are
        // skipped only up to where the replica is said to be.
        i->applied = pos;
        i->open.clear();
        if (auto it = i->conns.find(i->primary); it != i->conns.end() && it->second->ws) {
            boost::system::error_code ignored;
            beast::get_lowest_layer(*it->second->ws).socket().close(ignored);
        }
    });
}

awaitable<bool> client::server_covers(position pos) {
    auto i = impl_;
    co_await asio::dispatch(asio::bind_executor(i->executor, use_awaitable));
    for (std::size_t k = 0; k < i->options.servers.size(); ++k) {
        const auto& url = i->options.servers[(i->next_server + k) % i->options.servers.size()];
        try {
            auto ws = co_await i->open_ws(url);
            sync_request r;
            r.client_id = i->options.client_id;
            r.filters = i->options.filters;
            r.last_position = pos;
            const auto text = encode(r);
            co_await ws->async_write(asio::buffer(text), use_awaitable);
            beast::flat_buffer buffer;
            co_await ws->async_read(buffer, use_awaitable);
            const auto m = decode_server_message(beast::buffers_to_string(buffer.data()), nullptr);
            boost::system::error_code ignored;
            beast::get_lowest_layer(*ws).socket().close(ignored);
            if (const auto* h = std::get_if<handshake>(&m)) co_return h->mode == sync_mode::delta;
        } catch (const std::exception&) {
            // This one does not answer: ask the next.
        }
    }
    co_return false;
}

// --- the connection loop ---

sync_request client::impl::request_for() const {
    sync_request r;
    r.client_id = options.client_id;
    r.filters = options.filters;
    r.last_position = resync ? *resync : applied;
    r.last_snapshot_id = snapshot_id;
    if (auto it = conns.find(primary); it != conns.end() && !resync) {
        r.journal_id = it->second->journal_id;
        r.last_sequence = it->second->sequence;
    } else if (!resync) {
        std::lock_guard lock(status_mutex);
        r.journal_id = st.journal_id;
        r.last_sequence = st.sequence;
    }
    return r;
}

void client::impl::start_connection(std::size_t server, const std::string& url, bool secondary) {
    auto c = std::make_shared<connection>();
    c->id = ++next_id;
    c->url = url;
    c->secondary = secondary;
    c->server = server;
    conns[c->id] = c;
    if (!secondary) {
        primary = c->id;
        next_server = server;
    }
    asio::co_spawn(executor, run_connection(c), asio::detached);
}

awaitable<void> client::impl::run() {
    auto self = shared_from_this();
    co_await load_file();
    auto backoff = options.reconnect_initial;
    std::mt19937 random{std::random_device{}()};
    while (!stopped) {
        if (primary == 0) {
            start_connection(next_server, options.servers[next_server], false);
        }
        co_await primary_ended.wait();
        if (stopped) break;
        if (primary != 0) continue;  // a successor took over
        // Backoff with jitter (+-20%), reset by a connection that got in sync.
        std::uniform_real_distribution<double> jitter(0.8, 1.2);
        // On the signal stop() raises, so a stop never waits for the backoff.
        co_await primary_ended.wait(std::chrono::steady_clock::now() +
                                    std::chrono::milliseconds(static_cast<std::int64_t>(
                                        static_cast<double>(backoff.count()) * jitter(random))));
        if (stopped) break;
        backoff = std::min(backoff * 2, options.reconnect_max);
        if (ready) backoff = options.reconnect_initial;
        next_server = (next_server + 1) % options.servers.size();
    }
}

awaitable<std::shared_ptr<ws_stream>> client::impl::open_ws(const std::string& url) {
    const auto u = parse_url(url);
    tcp::resolver resolver(executor);
    const auto endpoints = co_await resolver.async_resolve(u.host, u.port, use_awaitable);
    beast::tcp_stream stream(executor);
    stream.expires_after(options.connect_timeout);
    co_await stream.async_connect(endpoints, use_awaitable);
    stream.expires_never();
    auto ws = std::make_shared<ws_stream>(std::move(stream));
    websocket::stream_base::timeout t{};
    t.handshake_timeout = options.connect_timeout;
    // A server that sends nothing (not even a heartbeat) for this long is gone.
    t.idle_timeout = options.heartbeat_timeout;
    t.keep_alive_pings = false;
    ws->set_option(t);
    const std::string token = options.token;
    ws->set_option(websocket::stream_base::decorator([token](websocket::request_type& req) {
        req.set(beast::http::field::user_agent, "laredo-replica");
        if (!token.empty()) req.set(beast::http::field::authorization, "Bearer " + token);
    }));
    ws->read_message_max(options.max_message_bytes);
    ws->text(true);
    websocket::response_type response;
    auto [ec] = co_await ws->async_handshake(response, u.host + ":" + u.port, u.path, use_tuple);
    if (ec) {
        throw error(
            errc::transient,
            fmt::format("replica: {} refused the upgrade: {} {}", url, response.result_int(),
                        response.body().empty() ? ec.message() : response.body()));
    }
    co_return ws;
}

awaitable<void> client::impl::run_connection(std::shared_ptr<connection> c) {
    auto self = shared_from_this();
    std::string why;
    try {
        c->ws = co_await open_ws(c->url);
        if (stopped || c->superseded) throw error(errc::stopped, "replica: stopping");
        update_status([&](client_status& s) { ++s.connects; });
        const auto request = encode(request_for());
        if (!c->secondary) resync.reset();
        co_await c->ws->async_write(asio::buffer(request), use_awaitable);
        beast::flat_buffer buffer;
        for (;;) {
            auto [ec, n] = co_await c->ws->async_read(buffer, use_tuple);
            if (ec == beast::error::timeout) {
                throw error(errc::transient,
                            fmt::format("replica: {} sent nothing for {} ms (no heartbeat)", c->url,
                                        options.heartbeat_timeout.count()));
            }
            if (ec) {
                const auto reason = c->ws->reason();
                throw error(
                    errc::transient,
                    reason.reason.empty()
                        ? fmt::format("replica: connection to {} lost: {}", c->url, ec.message())
                        : fmt::format("replica: {} closed the stream: {}", c->url,
                                      std::string(reason.reason.data(), reason.reason.size())));
            }
            const std::string text = beast::buffers_to_string(buffer.data());
            buffer.consume(n);
            auto m = decode_server_message(text, schema);
            // During a handoff two streams apply: one message (and what the feed hears of
            // it) at a time, in the order they arrive.
            while (feeding) co_await sleep_for(1ms);
            if (c->superseded || stopped) break;
            feeding = true;
            std::vector<applied_update> out;
            try {
                co_await apply(c, std::move(m), out);
                for (auto& u : out) {
                    if (feed) co_await feed->on_applied(std::move(u));
                }
            } catch (...) {
                feeding = false;
                throw;
            }
            feeding = false;
            if (c->superseded || stopped) break;
        }
    } catch (const std::exception& e) {
        why = e.what();
    }
    connection_ended(c, why);
}

void client::impl::connection_ended(const std::shared_ptr<connection>& c, const std::string& why) {
    if (c->ws) {
        boost::system::error_code ignored;
        beast::get_lowest_layer(*c->ws).socket().close(ignored);
    }
    conns.erase(c->id);
    if (!why.empty() && !c->superseded && !stopped) {
        update_status([&](client_status& s) { s.last_error = why; });
    }
    if (c->id != primary) return;  // a successor that never took over, or a replaced stream
    open.clear();                  // the open transaction is re-sent by the next stream
    // A successor waiting in the wings becomes the stream.
    for (auto& [id, other] : conns) {
        if (other->secondary) {
            promote(other);
            return;
        }
    }
    primary = 0;
    update_status([](client_status& s) { s.connected = false; });
    primary_ended.notify();
}

void client::impl::promote(const std::shared_ptr<connection>& c) {
    if (auto it = conns.find(primary); it != conns.end() && it->second != c) {
        auto old = it->second;
        old->superseded = true;
        if (old->ws) {
            boost::system::error_code ignored;
            beast::get_lowest_layer(*old->ws).socket().close(ignored);
        }
    }
    c->secondary = false;
    primary = c->id;
    update_status([&](client_status& s) {
        ++s.handoffs;
        s.server = c->url;
        s.journal_id = c->journal_id;
        s.sequence = c->sequence;
        s.mode = std::string(to_string(c->mode));
    });
}

// --- applying what arrives ---

awaitable<void> client::impl::apply(const std::shared_ptr<connection>& c, server_message m,
                                    std::vector<applied_update>& out) {
    const bool is_primary = c->id == primary;
    if (auto* h = std::get_if<handshake>(&m)) {
        c->handshake_done = true;
        c->mode = h->mode;
        c->journal_id = h->journal_id;
        c->sequence = h->resume_sequence;
        table = h->table;
        const bool changed = !schema || schema->columns() != h->columns;
        if (changed && h->mode != sync_mode::full_snapshot && has_rows) {
            // A delta over rows of other columns cannot be right: the next stream takes a
            // full snapshot.
            applied = position();
            snapshot_id.clear();
            c->journal_id.clear();
            c->sequence = 0;
            update_status([](client_status& st) {
                st.journal_id.clear();
                st.sequence = 0;
            });
            throw error(errc::transient,
                        "replica: the server's columns differ from the rows held: taking a full "
                        "snapshot");
        }
        if (changed) {
            schema = row_schema::make(h->columns);
            co_await store->on_init(table, schema);
        }
        if (is_primary) {
            update_status([&](client_status& st) {
                st.connected = true;
                st.server = c->url;
                st.mode = std::string(to_string(h->mode));
                st.journal_id = h->journal_id;
                st.sequence = h->resume_sequence;
            });
        }
        if (h->mode != sync_mode::full_snapshot && has_rows) {
            c->reached_ready = true;
            if (is_primary) ready = true;
        }
        co_return;
    }
    if (auto* b = std::get_if<snapshot_begin>(&m)) {
        c->in_snapshot = true;
        c->snapshot = *b;
        // Over rows already held, the new copy is built beside them and swapped in: readers
        // never see a partial table and listeners hear the difference.
        c->rebuild = has_rows;
        if (c->rebuild) {
            co_await store->begin_rebuild(table);
        } else {
            co_await store->on_init(table, schema);  // drops what a broken snapshot left
        }
        co_return;
    }
    if (auto* r = std::get_if<snapshot_rows>(&m)) {
        if (!c->in_snapshot) throw error(errc::corrupt_data, "replica: rows outside a snapshot");
        co_await store->on_baseline_rows(table, r->rows);
        co_return;
    }
    if (auto* e = std::get_if<snapshot_end>(&m)) {
        if (!c->in_snapshot)
            throw error(errc::corrupt_data, "replica: a snapshot end without a begin");
        co_await store->on_baseline_complete(table, e->pos);
        if (c->rebuild) co_await store->commit_rebuild(table);
        c->in_snapshot = false;
        c->journal_id = c->snapshot.journal_id;
        c->sequence = e->sequence;
        applied = e->pos;
        snapshot_id = e->snapshot_id;
        has_rows = true;
        open.clear();
        ++generation;
        c->reached_ready = true;
        // A successor that needed a whole snapshot replaces the stream at once: the rows are
        // its now.
        if (c->secondary) promote(c);
        ready = true;
        update_status([&](client_status& st) {
            ++st.full_snapshots;
            st.journal_id = c->journal_id;
            st.sequence = c->sequence;
            st.pos = applied;
            st.snapshot_id = snapshot_id;
        });
        out.push_back({applied_update::kind::reset, {}, applied, generation});
        co_return;
    }
    if (auto* e = std::get_if<entries>(&m)) {
        const position before = applied;
        for (auto& item : e->items) {
            // Entries both streams of a handoff deliver are applied once.
            const position& seen = open.empty() ? applied : open.back().pos;
            if (!seen.empty() && !item.pos.empty() && compare_positions(item.pos, seen) <= 0) {
                continue;
            }
            change_event ev;
            ev.table = table;
            ev.action = item.action;
            ev.pos = item.pos;
            ev.timestamp = std::chrono::system_clock::now();
            ev.commit_timestamp = item.commit_time;
            ev.ends_transaction = item.end_of_transaction;
            ev.new_values = std::move(item.new_row);
            ev.old_values = std::move(item.old_row);
            const bool ends = ev.ends_transaction;
            open.push_back(std::move(ev));
            if (ends) co_await flush(out);
        }
        c->sequence = e->last_sequence;
        if (e->end_of_transaction && !open.empty()) {
            open.back().ends_transaction = true;
            co_await flush(out);
        }
        if (e->end_of_transaction && open.empty()) co_await reach(e->last_position, out);
        if (c->id == primary) update_status([&](client_status& st) { st.sequence = c->sequence; });
        if (c->secondary && c->handshake_done && !e->last_position.empty() &&
            (before.empty() || compare_positions(e->last_position, before) >= 0)) {
            promote(c);  // it has caught up with the old stream
        }
        co_return;
    }
    if (auto* h = std::get_if<heartbeat>(&m)) {
        if (!open.empty()) co_return;  // mid-transaction: the rest is coming
        c->sequence = h->sequence;
        const position before = applied;
        co_await reach(h->pos, out);
        if (c->id == primary) update_status([&](client_status& st) { st.sequence = c->sequence; });
        if (c->secondary && c->handshake_done && !h->pos.empty() &&
            (before.empty() || compare_positions(h->pos, before) >= 0)) {
            promote(c);
        }
        co_return;
    }
    if (auto* sc = std::get_if<schema_change>(&m)) {
        // A full snapshot of the new columns follows.
        schema = row_schema::make(sc->columns);
        co_await store->on_init(table, schema);
        co_return;
    }
    if (auto* g = std::get_if<goaway>(&m)) {
        if (is_primary && !c->goaway_followed) {
            c->goaway_followed = true;
            // Another server (the one named, else the next configured) takes over without a
            // gap: this stream goes on until that one has caught up.
            const auto next = (c->server + 1) % options.servers.size();
            const auto url =
                g->reconnect_to.empty() ? options.servers[next] : g->reconnect_to.front();
            start_connection(next, url, true);
        }
        co_return;
    }
    if (auto* err = std::get_if<error_message>(&m)) {
        throw error(errc::transient, fmt::format("replica: {} refused the stream: {}: {}", c->url,
                                                 err->code, err->message));
    }
}

awaitable<void> client::impl::flush(std::vector<applied_update>& out) {
    if (open.empty()) co_return;
    co_await store->on_changes(table, open);
    applied = open.back().pos;
    update_status([&](client_status& st) { st.pos = applied; });
    out.push_back({applied_update::kind::changes, std::exchange(open, {}), applied, generation});
}

awaitable<void> client::impl::reach(const position& pos, std::vector<applied_update>& out) {
    if (pos.empty() || (!applied.empty() && compare_positions(pos, applied) <= 0)) co_return;
    applied = pos;
    store->on_position_reached(table, pos);
    update_status([&](client_status& st) { st.pos = applied; });
    out.push_back({applied_update::kind::heartbeat, {}, pos, generation});
}

awaitable<void> client::impl::load_file() {
    if (options.local_snapshot.empty()) co_return;
    try {
        auto f = detail::load_replica_file(options.local_snapshot);
        if (!f) co_return;
        table = f->table;
        schema = row_schema::make(f->columns);
        co_await store->on_init(table, schema);
        table_snapshot_info info;
        info.table = table;
        info.row_count = f->rows.size();
        info.columns = f->columns;
        info.target_type = store->type_name();
        // Restored with its secondary indexes (built as the rows go in).
        co_await store->restore_snapshot(info, std::move(f->rows), f->pos);
        applied = f->pos;
        snapshot_id = f->snapshot_id;
        has_rows = true;
        update_status([&](client_status& st) {
            st.journal_id = f->journal_id;
            st.sequence = f->sequence;
            st.pos = f->pos;
            st.snapshot_id = f->snapshot_id;
        });
    } catch (const std::exception& e) {
        // A file that cannot be read costs a full snapshot, nothing more.
        update_status([&](client_status& st) { st.last_error = e.what(); });
    }
}

void client::impl::save_file() {
    if (options.local_snapshot.empty() || !has_rows || !schema) return;
    detail::replica_file f;
    f.table = table;
    f.columns = schema->columns();
    {
        std::lock_guard lock(status_mutex);
        f.journal_id = st.journal_id;
        f.sequence = st.sequence;
    }
    f.pos = applied;
    f.snapshot_id = snapshot_id;
    f.rows = store->rows();
    try {
        detail::save_replica_file(options.local_snapshot, f);
    } catch (const std::exception& e) {
        update_status([&](client_status& st) { st.last_error = e.what(); });
    }
}

// --- reads ---

bool client::ready() const noexcept { return impl_->ready; }
table_identifier client::table() const {
    return impl_->store->schema() ? impl_->table : table_identifier();
}
schema_ptr client::schema() const { return impl_->store->schema(); }
std::optional<row> client::get(const std::vector<value>& key) const {
    return impl_->store->get(key);
}
std::size_t client::count() const { return impl_->store->count(); }
std::vector<row> client::rows() const { return impl_->store->rows(); }
std::vector<row> client::lookup_index(std::string_view index,
                                      const std::vector<value>& values) const {
    return impl_->store->lookup_index(index, values);
}
client_status client::status() const {
    std::lock_guard lock(impl_->status_mutex);
    auto s = impl_->st;
    s.ready = impl_->ready;
    return s;
}
client::consistent_rows client::read_consistent() const {
    return {impl_->store->rows(), impl_->applied, impl_->generation};
}
targets::memory::subscription client::listen(targets::memory::indexed_target::listener fn) {
    return impl_->store->listen(std::move(fn));
}

}  // namespace laredo::replica
