#include "line_source.hpp"

#include "line_protocol.hpp"

#include "laredo/error.hpp"

#include <boost/asio/strand.hpp>
#include <boost/asio/this_coro.hpp>

#include <fmt/format.h>

#include <charconv>
#include <chrono>

namespace laredo::examples {

namespace asio = boost::asio;
using asio::awaitable;
using line_protocol::message;

namespace {

[[noreturn]] void bad_line(const line_connection& conn, std::string_view line,
                           std::string_view problem) {
    constexpr std::size_t shown = 120;
    throw error(
        errc::corrupt_data,
        fmt::format("line source: malformed line {} from {}: {} in \"{}{}\"", conn.lines_read(),
                    conn.peer(), problem, line.substr(0, shown), line.size() > shown ? "..." : ""));
}

message parse_line(const line_connection& conn, std::string_view line) {
    try {
        return line_protocol::parse(line);
    } catch (const line_protocol::malformed& e) {
        bad_line(conn, line, e.what());
    }
}

// An ERROR reply, as the failure the engine acts on.
[[noreturn]] void upstream_error(const line_connection& conn, const message& m) {
    const auto what =
        fmt::format("line source: {} answered {} {}", conn.peer(), m.error_code, m.error_text);
    if (m.error_code == "UNKNOWN_TABLE") throw error(errc::unknown_table, what);
    if (m.error_code == "HISTORY_GONE") throw error(errc::rebaseline_required, what);
    throw error(errc::source_failed, what);
}

// The reply to a request: a message of kind `want` (an ERROR reply is thrown as such).
awaitable<message> expect(line_connection& conn, message::kind want, std::string_view name) {
    const std::string line = co_await conn.read_line();
    auto m = parse_line(conn, line);
    if (m.what == message::kind::error) upstream_error(conn, m);
    if (m.what != want) bad_line(conn, line, fmt::format("expected {}", name));
    co_return m;
}

// [guide:state-after]
// What a failure leaves the source in: the engine retries what is not fatal.
source_state state_after(const std::exception_ptr& failure) {
    try {
        std::rethrow_exception(failure);
    } catch (const boost::system::system_error& e) {
        return is_fatal(e.code()) ? source_state::error : source_state::reconnecting;
    } catch (...) {
        return source_state::error;
    }
}
// [/guide:state-after]

}  // namespace

// [guide:strand]
line_source::line_source(asio::any_io_executor executor, line_source_options options)
    : strand_(asio::make_strand(executor)), options_(std::move(options)) {
    // [/guide:strand]
    if (options_.batch_size == 0)
        throw error(errc::invalid_config, "line source: batch_size must be at least 1");
}

awaitable<std::shared_ptr<line_connection>> line_source::connect(int receive_buffer_bytes) {
    auto conn = std::make_shared<line_connection>(strand_, options_.max_line_bytes);
    co_await conn->connect(options_.upstream, receive_buffer_bytes);
    co_return conn;
}

// [guide:init]
awaitable<table_schemas> line_source::init(const source_config& config) {
    state_ = source_state::connecting;
    try {
        const auto conn = co_await connect();
        table_schemas schemas;
        for (const auto& table : config.tables) {
            co_await conn->write_line("SCHEMA " + table.to_string());
            const auto reply = co_await expect(*conn, message::kind::columns, "COLUMNS");
            if (reply.table != table) {
                throw error(errc::corrupt_data,
                            fmt::format("line source: asked for {}, got {}", table.to_string(),
                                        reply.table.to_string()));
            }
            schemas[table] = reply.columns;  // key columns: primary_key, ordinals 1..n
            schemas_[table] = row_schema::make(reply.columns);
        }
        closed_ = false;
        state_ = source_state::connected;
        co_return schemas;
    } catch (...) {
        state_ = state_after(std::current_exception());
        throw;
    }
}
// [/guide:init]

// [guide:validate]
awaitable<std::vector<validation_error>> line_source::validate_tables(
    const std::vector<table_identifier>& tables) {
    const auto conn = co_await connect();
    std::vector<validation_error> problems;
    for (const auto& table : tables) {
        co_await conn->write_line("SCHEMA " + table.to_string());
        const std::string line = co_await conn->read_line();
        const auto reply = parse_line(*conn, line);
        if (reply.what == message::kind::error && reply.error_code == "UNKNOWN_TABLE") {
            problems.push_back({table, "TABLE_NOT_FOUND", reply.error_text});
        } else if (reply.what == message::kind::error) {
            upstream_error(*conn, reply);
        } else if (reply.what != message::kind::columns) {
            bad_line(*conn, line, "expected COLUMNS");
        }
    }
    co_return problems;
}
// [/guide:validate]

// [guide:baseline]
awaitable<position> line_source::baseline(const std::vector<table_identifier>& tables,
                                          baseline_sink& sink) {
    // A connection of its own: a reload takes a baseline while stream() holds the stream's.
    const auto conn = co_await connect();
    std::string request = "SNAPSHOT";
    for (const auto& table : tables) request += " " + table.to_string();
    co_await conn->write_line(std::move(request));

    table_identifier table;  // of the rows in `batch`
    std::vector<row> batch;
    for (;;) {
        const std::string line = co_await conn->read_line();
        const auto m = parse_line(*conn, line);
        if (m.what == message::kind::error) upstream_error(*conn, m);
        if (m.what != message::kind::row && m.what != message::kind::end)
            bad_line(*conn, line, "expected ROW or END");
        const bool end = m.what == message::kind::end;
        if (!batch.empty() && (end || m.table != table || batch.size() == options_.batch_size)) {
            // Suspends while the pipelines' buffers are full: the baseline feels backpressure.
            co_await sink.on_rows(table, std::move(batch));
            batch.clear();
        }
        if (end) co_return position::from_sequence(m.number);  // what the rows are as of
        table = m.table;
        batch.push_back(row_of(*conn, line, m, value()));
    }
}
// [/guide:baseline]

// [guide:stream]
awaitable<void> line_source::stream(position from, change_handler& handler) {
    const auto cs = co_await asio::this_coro::cancellation_state;
    const auto start = from.empty() ? 0 : from.sequence();
    std::exception_ptr failure;
    try {
        const auto conn = co_await connect(options_.receive_buffer_bytes);
        co_await conn->write_line(fmt::format("STREAM {}", start));
        if (stream_conn_) stream_conn_->close();  // the connection of an earlier stream()
        stream_conn_ = conn;                      // ack() writes on it, close() closes it
        state_ = paused_ ? source_state::paused : source_state::streaming;
        co_await read_changes(*conn, start, handler);
    } catch (...) {
        failure = std::current_exception();
    }
    // Terminal cancellation (the engine stops reading) or close(): a normal end, whatever the
    // read or the handler threw as it was interrupted. The connection stays open, so the
    // engine's final ack() still reaches the upstream; close() releases it.
    if (cs.cancelled() != asio::cancellation_type::none || closed_) {
        if (!closed_) state_ = source_state::connected;
        co_return;
    }
    state_ = state_after(failure);  // reconnecting (the engine retries) or error
    std::rethrow_exception(failure);
}
// [/guide:stream]

// [guide:stream-loop]
awaitable<void> line_source::read_changes(line_connection& conn, std::uint64_t last,
                                          change_handler& handler) {
    std::vector<change_event> batch;  // the transaction being read, or its current part
    for (;;) {
        // Suspends until a whole line has arrived. While this coroutine is suspended in the
        // handler below (the pipelines' buffers are full), nothing reads the socket: the
        // kernel's buffer fills, TCP closes its window and the upstream's writes wait.
        const std::string line = co_await conn.read_line();
        const auto m = parse_line(conn, line);
        if (m.what == message::kind::change) {
            last = m.number;
            if (!schemas_.contains(m.table)) continue;  // a table no pipeline asked for
            if (batch.size() == options_.batch_size) {
                // A large transaction goes in parts; only its last change ends it.
                co_await handler.on_changes(std::move(batch));
                batch.clear();
            }
            batch.push_back(to_change(conn, line, m));
        } else if (m.what == message::kind::commit && batch.empty()) {
            // Nothing for our tables: say how far we got, so the ACK can move on.
            co_await handler.on_heartbeat(position::from_sequence(last));
        } else if (m.what == message::kind::commit) {
            batch.back().ends_transaction = true;
            co_await handler.on_changes(std::move(batch));
            batch.clear();
        } else if (m.what == message::kind::error) {
            upstream_error(conn, m);
        } else if (m.what != message::kind::begin) {
            bad_line(conn, line, "expected BEGIN, a change or COMMIT");
        }
    }
}
// [/guide:stream-loop]

// [guide:to-change]
change_event line_source::to_change(const line_connection& conn, std::string_view line,
                                    const message& m) const {
    change_event e;
    e.table = m.table;
    e.action = m.action;
    e.pos = position::from_sequence(m.number);
    e.timestamp = std::chrono::system_clock::now();
    e.ends_transaction = false;  // the COMMIT line decides
    switch (m.action) {
        case change_action::insert:
            e.new_values = row_of(conn, line, m, value());
            break;
        case change_action::update:
            e.new_values = row_of(conn, line, m, value::unchanged());
            break;
        case change_action::delete_:
            e.old_values = row_of(conn, line, m, value());
            break;
        case change_action::truncate:
            break;
    }
    return e;
}
// [/guide:to-change]

row line_source::row_of(const line_connection& conn, std::string_view line, const message& m,
                        const value& missing) const {
    const auto schema = schemas_.find(m.table);
    if (schema == schemas_.end()) bad_line(conn, line, m.table.to_string() + " is not ours");
    try {
        return line_protocol::to_row(schema->second, m.fields, missing);
    } catch (const line_protocol::malformed& e) {
        bad_line(conn, line, e.what());
    }
}

// [guide:ack]
awaitable<void> line_source::ack(position pos) {
    if (!ack_wanted_ || pos.sequence() > *ack_wanted_) ack_wanted_ = pos.sequence();
    co_await send_acks();
}

// One write at a time on the socket: an ack() that arrives while another one writes is sent
// by that one's loop (the engine itself never overlaps two acks).
awaitable<void> line_source::send_acks() {
    if (ack_writing_) co_return;
    ack_writing_ = true;
    std::exception_ptr failure;
    try {
        // Kept alive even if stream() replaces it meanwhile. Before stream() has connected
        // (the ACK of the baseline), a connection of its own.
        auto conn = stream_conn_;
        if (!conn) conn = co_await connect();
        while (ack_wanted_ != ack_sent_) {
            const auto next = *ack_wanted_;
            co_await conn->write_line(fmt::format("ACK {}", next));
            ack_sent_ = next;
        }
    } catch (...) {
        failure = std::current_exception();  // transient: the engine retries the ack
    }
    ack_writing_ = false;
    if (failure) std::rethrow_exception(failure);
}
// [/guide:ack]

// [guide:resume]
awaitable<std::optional<position>> line_source::last_acked_position() {
    const auto h = co_await ask_history();
    if (!h.acked) co_return std::nullopt;
    co_return position::from_sequence(*h.acked);
}

// The upstream keeps every change after its last ACK, up to its newest one.
awaitable<bool> line_source::can_resume_from(const position& pos) {
    const auto h = co_await ask_history();
    const auto n = pos.empty() ? 0 : pos.sequence();
    co_return n >= h.acked.value_or(0) && n <= h.newest;
}
// [/guide:resume]

awaitable<line_source::history> line_source::ask_history() {
    const auto conn = co_await connect();
    co_await conn->write_line("HISTORY");
    const auto m = co_await expect(*conn, message::kind::history, "HISTORY");
    co_return history{m.acked, m.number};
}

// [guide:positions]
int line_source::compare_positions(const position& a, const position& b) const {
    const auto rank = [](const position& p) { return p.empty() ? 0 : p.sequence() + 1; };
    return rank(a) < rank(b) ? -1 : static_cast<int>(rank(a) > rank(b));
}

std::string line_source::position_to_string(const position& pos) const {
    return pos.empty() ? std::string() : std::to_string(pos.sequence());
}

position line_source::position_from_string(std::string_view text) const {
    if (text.empty()) return {};  // the empty position, as position_to_string writes it
    std::uint64_t n = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
    if (ec != std::errc{} || end != text.data() + text.size()) {
        throw error(
            errc::invalid_position,
            fmt::format("invalid line source position \"{}\": expected a change number", text));
    }
    return position::from_sequence(n);
}
// [/guide:positions]

// [guide:pause]
// When the engine calls pause() it has already stopped applying this source's changes: the
// handler stops completing once the buffers are full, read_changes stops reading, and TCP
// stops the upstream. All that is left to do is to say so.
awaitable<void> line_source::pause() {
    paused_ = true;
    if (state_ == source_state::streaming) state_ = source_state::paused;
    co_return;
}

awaitable<void> line_source::resume() {
    paused_ = false;
    if (state_ == source_state::paused) state_ = source_state::streaming;
    co_return;
}
// [/guide:pause]

// [guide:close]
awaitable<void> line_source::close() {
    closed_ = true;  // a stream() still running ends normally
    if (stream_conn_) stream_conn_->close();
    stream_conn_.reset();
    state_ = source_state::closed;
    co_return;
}
// [/guide:close]

// [guide:reset]
// Like dropping a replication slot: the upstream forgets every change before its newest, so
// can_resume_from() says no to every older position and the next start takes a baseline.
// The line protocol has no publication: drop_publication changes nothing.
awaitable<void> line_source::reset_source(bool /*drop_publication*/) {
    const auto conn = co_await connect();
    co_await conn->write_line("RESET");
    co_await expect(*conn, message::kind::history, "HISTORY");
}
// [/guide:reset]

}  // namespace laredo::examples
