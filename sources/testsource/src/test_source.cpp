#include "laredo/sources/testsource/test_source.hpp"

#include "test_database.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <exception>
#include <iterator>
#include <mutex>

namespace laredo::sources::testsource {

namespace asio = boost::asio;
using asio::awaitable;
using asio::use_awaitable;

namespace {

const char* name_of(step s) {
    static constexpr std::array<const char*, step_count> names{
        "init",  "validate_tables",     "baseline",       "stream", "ack", "pause", "resume",
        "close", "last_acked_position", "can_resume_from"};
    return names[static_cast<std::size_t>(s)];
}

source_state state_after_failure(const boost::system::error_code& code) {
    if (code == errc::rebaseline_required) return source_state::connected;
    return is_fatal(code) ? source_state::error : source_state::reconnecting;
}

awaitable<void> sleep_for(std::chrono::milliseconds d) {
    asio::steady_timer timer(co_await asio::this_coro::executor, d);
    co_await timer.async_wait(use_awaitable);
}

bool is_cancelled(const asio::cancellation_state& cs) {
    return cs.cancelled() != asio::cancellation_type::none;
}

}  // namespace

struct test_source::impl : std::enable_shared_from_this<impl> {
    impl(asio::any_io_executor executor, test_source_options opts)
        : strand(asio::make_strand(std::move(executor))),
          options(std::move(opts)),
          db(options.database ? options.database
                              : std::make_shared<test_database>(options.positions)),
          wake(strand) {
        if (options.batch_size == 0) {
            throw error(errc::invalid_argument,
                        "test_source_options::batch_size must be at least 1");
        }
        if (db->mode() != options.positions) {
            throw error(errc::invalid_argument,
                        "test_source_options::positions differs from the database's position mode");
        }
        options.database.reset();
        db->set_max_history(options.max_history);
    }

    // Throws unless running on the strand; counts the call; throws an injected failure.
    void begin_call(step s) {
        if (!strand.running_in_this_thread()) {
            throw error(errc::invalid_argument,
                        fmt::format("testsource {} must run on the source's executor "
                                    "(get_executor())",
                                    name_of(s)));
        }
        std::optional<errc> code;
        {
            std::lock_guard lock(mutex);
            ++call_counts[static_cast<std::size_t>(s)];
            code = take_failure_locked(s);
        }
        if (code) fail(s, *code);
    }

    std::optional<errc> take_failure_locked(step s) {
        auto& f = failures[static_cast<std::size_t>(s)];
        if (!f) return std::nullopt;
        const errc code = f->code;
        if (--f->times == 0) f.reset();
        return code;
    }

    [[noreturn]] void fail(step s, errc code) {
        if (s == step::init || s == step::stream) state = state_after_failure(code);
        throw error(code, fmt::format("injected failure: testsource {} failed ({})", name_of(s),
                                      make_error_code(code).message()));
    }

    int compare(const position& a, const position& b) const {
        return testsource::compare_positions(options.positions, a, b);
    }

    // Wakes the stream loop. Posted because the timer belongs to the strand; coalesced so a
    // burst of injections costs one hop; a weak pointer because the source may be gone by the
    // time the strand runs it.
    void notify() {
        if (wake_posted.exchange(true)) return;
        auto wake_up = [weak = weak_from_this()] {
            if (auto self = weak.lock()) {
                self->wake_posted = false;
                self->wake.cancel();
            }
        };
        asio::post(strand, std::move(wake_up));
    }

    awaitable<void> wait_signal() {
        wake.expires_at(asio::steady_timer::time_point::max());
        co_await wake.async_wait(asio::as_tuple(use_awaitable));
    }

    void wake_waiters() {
        for (auto* t : waiters) t->cancel();
    }

    void set_running_state() { state = paused ? source_state::paused : source_state::streaming; }

    bool delivered(const position& pos) const {
        std::lock_guard lock(mutex);
        return !cursor.empty() && compare(cursor, pos) >= 0;
    }

    struct stream_request {
        std::optional<errc> failure;
        bool rebaseline = false;
        std::optional<position> rewind;
    };

    stream_request take_request() {
        std::lock_guard lock(mutex);
        stream_request r;
        r.failure = take_failure_locked(step::stream);
        if (r.failure) return r;
        if (rebaseline) {
            rebaseline = false;
            r.rebaseline = true;
        } else if (!paused && rewind) {
            r.rewind = std::move(rewind);
            rewind.reset();
        }
        return r;
    }

    bool take_heartbeat() {
        std::lock_guard lock(mutex);
        return std::exchange(heartbeat, false);
    }

    // The stream loop: after every resumption it re-checks cancellation, close, injected
    // requests and pause before it delivers anything.
    awaitable<void> deliver(change_handler& handler, std::uint64_t after, position last,
                            const asio::cancellation_state& cs) {
        for (;;) {
            if (is_cancelled(cs) || closed) co_return;
            auto request = take_request();
            if (request.failure) fail(step::stream, *request.failure);
            if (request.rebaseline) {
                throw error(errc::rebaseline_required,
                            "testsource: a re-baseline was demanded (require_rebaseline)");
            }
            if (request.rewind) {
                const auto entry = db->entry_number_at(*request.rewind);
                state = source_state::reconnecting;
                co_await handler.on_rewind(*request.rewind);
                last = std::move(*request.rewind);
                after = entry;
                delivered_entries = entry;
                set_running_state();
                continue;
            }
            if (paused) {
                co_await wait_signal();
                continue;
            }
            auto batch = db->read(after, options.batch_size);
            if (!batch.empty()) {
                if (options.stream_batch_delay.count() > 0) {
                    asio::steady_timer delay(strand, options.stream_batch_delay);
                    co_await delay.async_wait(asio::as_tuple(use_awaitable));
                    if (is_cancelled(cs) || closed) co_return;
                }
                position batch_end = batch.back().pos;
                const auto n = batch.size();
                co_await handler.on_changes(std::move(batch));
                last = std::move(batch_end);
                after += n;
                delivered_entries = after;
                {
                    std::lock_guard lock(mutex);
                    // A reconnect requested meanwhile already moved the cursor back.
                    if (!rewind) cursor = last;
                }
                wake_waiters();
                continue;
            }
            if (take_heartbeat()) {
                // The loop's own position, not the cursor: a reconnect requested a moment ago
                // has moved the cursor back, but on_rewind has not told the handler yet.
                co_await handler.on_heartbeat(last);
                continue;
            }
            co_await wait_signal();
        }
    }

    position delivered_position() const {
        std::lock_guard lock(mutex);
        return cursor;
    }

    static awaitable<bool> wait_delivered_on_strand(std::shared_ptr<impl> self, position pos,
                                                    std::chrono::milliseconds limit) {
        asio::steady_timer timer(self->strand, limit);
        self->waiters.push_back(&timer);
        bool done = self->delivered(pos);
        while (!done && !self->closed) {
            auto [ec] = co_await timer.async_wait(asio::as_tuple(use_awaitable));
            done = self->delivered(pos);
            if (!ec) break;  // the limit passed
        }
        std::erase(self->waiters, &timer);
        co_return done;
    }

    void request_rewind(std::optional<position> to) {
        {
            std::lock_guard lock(mutex);
            if (!streaming) {
                throw error(errc::invalid_argument,
                            "simulate_reconnect: no stream of the test source is running");
            }
            position target;
            if (to) {
                target = std::move(*to);
            } else {
                target = acks.empty() || compare(acks.back(), stream_from) < 0 ? stream_from
                                                                               : acks.back();
                if (compare(target, cursor) > 0) target = cursor;
            }
            if (compare(target, cursor) > 0) {
                throw error(errc::invalid_argument,
                            fmt::format("simulate_reconnect: cannot rewind to {}, after the "
                                        "delivered position {}",
                                        target.debug_string(), cursor.debug_string()));
            }
            // Lock order: this mutex, then the database's; the database never calls back.
            if (!db->can_stream_from(target)) {
                throw error(errc::invalid_argument,
                            fmt::format("simulate_reconnect: the history before {} is gone",
                                        target.debug_string()));
            }
            cursor = target;
            rewind = std::move(target);
        }
        notify();
    }

    asio::strand<asio::any_io_executor> strand;
    test_source_options options;
    std::shared_ptr<test_database> db;

    // Strand only.
    asio::steady_timer wake;
    std::vector<asio::steady_timer*> waiters;
    bool paused = false;
    bool closed = false;

    std::atomic<bool> wake_posted{false};
    std::atomic<source_state> state{source_state::closed};
    std::atomic<std::uint64_t> delivered_entries{0};

    // Everything below is shared with other threads.
    mutable std::mutex mutex;
    bool streaming = false;
    position stream_from;
    position cursor;
    std::optional<position> rewind;
    bool rebaseline = false;
    bool heartbeat = false;
    struct injected_failure {
        errc code;
        int times;
    };
    std::array<std::optional<injected_failure>, step_count> failures{};
    std::optional<std::pair<std::size_t, errc>> baseline_failure;
    std::array<std::size_t, step_count> call_counts{};
    std::vector<position> acks;
    std::vector<std::vector<table_identifier>> baselines;
};

// ---- transaction ----

test_source::transaction& test_source::transaction::insert(const table_identifier& table, row r) {
    change_event e;
    e.table = table;
    e.action = change_action::insert;
    e.new_values = std::move(r);
    changes_.push_back(std::move(e));
    return *this;
}

test_source::transaction& test_source::transaction::update(const table_identifier& table,
                                                           row new_row, row old_row) {
    change_event e;
    e.table = table;
    e.action = change_action::update;
    e.new_values = std::move(new_row);
    e.old_values = std::move(old_row);
    changes_.push_back(std::move(e));
    return *this;
}

test_source::transaction& test_source::transaction::remove(const table_identifier& table,
                                                           row identity) {
    change_event e;
    e.table = table;
    e.action = change_action::delete_;
    e.old_values = std::move(identity);
    changes_.push_back(std::move(e));
    return *this;
}

test_source::transaction& test_source::transaction::truncate(const table_identifier& table) {
    change_event e;
    e.table = table;
    e.action = change_action::truncate;
    changes_.push_back(std::move(e));
    return *this;
}

// ---- setup ----

test_source::test_source(asio::any_io_executor executor, test_source_options options)
    : impl_(std::make_shared<impl>(std::move(executor), std::move(options))) {}

test_source::~test_source() = default;

schema_ptr test_source::set_schema(const table_identifier& table,
                                   std::vector<column_definition> columns) {
    return impl_->db->set_schema(table, std::move(columns), false);
}

schema_ptr test_source::schema_of(const table_identifier& table) const {
    return impl_->db->schema_of(table);
}

std::vector<column_definition> test_source::text_columns(const std::vector<std::string>& names,
                                                         std::size_t key_columns) {
    std::vector<column_definition> out;
    for (std::size_t i = 0; i < names.size(); ++i) {
        column_definition c;
        c.name = names[i];
        c.type = "text";
        c.primary_key = i < key_columns;
        c.nullable = !c.primary_key;
        c.ordinal_position = static_cast<int>(i) + 1;
        c.primary_key_ordinal = c.primary_key ? static_cast<int>(i) + 1 : 0;
        out.push_back(std::move(c));
    }
    return out;
}

row test_source::make_row(const table_identifier& table,
                          const std::vector<std::pair<std::string, value>>& values) const {
    row_builder builder(schema_of(table));
    for (const auto& [column, v] : values) builder.set(column, v);
    return std::move(builder).build();
}

void test_source::add_row(const table_identifier& table, row r) {
    impl_->db->add_row(table, std::move(r));
}

// ---- injection ----

position test_source::insert(const table_identifier& table, row r) {
    transaction tx;
    tx.insert(table, std::move(r));
    return commit(std::move(tx));
}

position test_source::update(const table_identifier& table, row new_row, row old_row) {
    transaction tx;
    tx.update(table, std::move(new_row), std::move(old_row));
    return commit(std::move(tx));
}

position test_source::remove(const table_identifier& table, row identity) {
    transaction tx;
    tx.remove(table, std::move(identity));
    return commit(std::move(tx));
}

position test_source::truncate(const table_identifier& table) {
    transaction tx;
    tx.truncate(table);
    return commit(std::move(tx));
}

position test_source::commit(transaction tx) {
    if (tx.empty()) throw error(errc::invalid_argument, "commit: the transaction has no changes");
    auto pos = impl_->db->commit(std::move(tx.changes_));
    impl_->notify();
    return pos;
}

position test_source::emit(std::vector<change_event> events) {
    const bool any = !events.empty();
    auto pos = impl_->db->emit(std::move(events));
    if (any) impl_->notify();
    return pos;
}

schema_ptr test_source::alter_schema(const table_identifier& table,
                                     std::vector<column_definition> columns) {
    return impl_->db->set_schema(table, std::move(columns), true);
}

void test_source::heartbeat() {
    {
        std::lock_guard lock(impl_->mutex);
        impl_->heartbeat = true;
    }
    impl_->notify();
}

void test_source::simulate_reconnect() { impl_->request_rewind(std::nullopt); }

void test_source::simulate_reconnect(position rewind_to) {
    impl_->request_rewind(std::move(rewind_to));
}

void test_source::require_rebaseline() {
    {
        std::lock_guard lock(impl_->mutex);
        impl_->rebaseline = true;
    }
    impl_->notify();
}

void test_source::discard_history() { impl_->db->discard(position{}); }

void test_source::discard_history(const position& through) {
    if (through.empty()) {
        throw error(errc::invalid_position, "discard_history: an empty position discards nothing");
    }
    impl_->db->discard(through);
}

// ---- failures ----

void test_source::fail_next(step s, errc code, int times) {
    if (times < 1) throw error(errc::invalid_argument, "fail_next: times must be at least 1");
    {
        std::lock_guard lock(impl_->mutex);
        impl_->failures[static_cast<std::size_t>(s)] = impl::injected_failure{code, times};
    }
    if (s == step::stream) impl_->notify();
}

void test_source::fail_baseline_after(std::size_t rows, errc code) {
    std::lock_guard lock(impl_->mutex);
    impl_->baseline_failure = std::pair{rows, code};
}

// ---- inspection ----

std::shared_ptr<test_database> test_source::database() const { return impl_->db; }

position test_source::head() const { return impl_->db->head(); }

position test_source::delivered_position() const { return impl_->delivered_position(); }

awaitable<bool> test_source::wait_delivered(position pos, std::chrono::milliseconds limit) {
    auto waiting = impl::wait_delivered_on_strand(impl_, std::move(pos), limit);
    co_return co_await asio::co_spawn(impl_->strand, std::move(waiting), use_awaitable);
}

std::vector<position> test_source::acked_positions() const {
    std::lock_guard lock(impl_->mutex);
    return impl_->acks;
}

std::optional<position> test_source::last_acked() const {
    std::lock_guard lock(impl_->mutex);
    if (impl_->acks.empty()) return std::nullopt;
    return impl_->acks.back();
}

std::size_t test_source::calls(step s) const {
    std::lock_guard lock(impl_->mutex);
    return impl_->call_counts[static_cast<std::size_t>(s)];
}

std::vector<std::vector<table_identifier>> test_source::baseline_requests() const {
    std::lock_guard lock(impl_->mutex);
    return impl_->baselines;
}

// ---- sync_source ----

asio::any_io_executor test_source::get_executor() const { return impl_->strand; }

awaitable<table_schemas> test_source::init(const source_config& config) {
    impl& s = *impl_;
    s.begin_call(step::init);
    s.state = source_state::connecting;
    table_schemas schemas;
    try {
        schemas = s.db->schemas(config.tables);
    } catch (...) {
        s.state = source_state::error;
        throw;
    }
    s.closed = false;
    s.state = source_state::connected;
    co_return schemas;
}

awaitable<std::vector<validation_error>> test_source::validate_tables(
    const std::vector<table_identifier>& tables) {
    impl_->begin_call(step::validate_tables);
    std::vector<validation_error> errors;
    for (const auto& t : impl_->db->missing(tables)) {
        errors.push_back(validation_error{
            t, "TABLE_NOT_FOUND",
            fmt::format("table {} does not exist in the test source", t.to_string())});
    }
    co_return errors;
}

awaitable<position> test_source::baseline(const std::vector<table_identifier>& tables,
                                          baseline_sink& sink) {
    impl& s = *impl_;
    s.begin_call(step::baseline);
    std::optional<std::pair<std::size_t, errc>> fail_after;
    {
        std::lock_guard lock(s.mutex);
        s.baselines.push_back(tables);
        fail_after = std::exchange(s.baseline_failure, std::nullopt);
    }
    auto snapshot = s.db->take_snapshot(tables);
    const bool slow = s.options.baseline_row_delay.count() > 0;
    const std::size_t chunk = slow ? 1 : s.options.batch_size;
    std::size_t sent = 0;
    const auto may_send = [&] { return !fail_after || sent < fail_after->first; };
    for (auto& [table, rows] : snapshot.tables) {
        for (std::size_t i = 0; i < rows.size() && may_send();) {
            std::size_t n = std::min(chunk, rows.size() - i);
            if (fail_after) n = std::min(n, fail_after->first - sent);
            if (slow) co_await sleep_for(s.options.baseline_row_delay);
            std::vector<row> batch(
                std::make_move_iterator(rows.begin() + static_cast<std::ptrdiff_t>(i)),
                std::make_move_iterator(rows.begin() + static_cast<std::ptrdiff_t>(i + n)));
            co_await sink.on_rows(table, std::move(batch));
            i += n;
            sent += n;
        }
    }
    if (fail_after) {
        throw error(fail_after->second,
                    fmt::format("injected failure: testsource baseline failed after {} rows ({})",
                                sent, make_error_code(fail_after->second).message()));
    }
    co_return snapshot.at;
}

awaitable<void> test_source::stream(position from, change_handler& handler) {
    impl& s = *impl_;
    s.begin_call(step::stream);
    if (s.closed) throw error(errc::stopped, "testsource stream: the source is closed");
    {
        std::lock_guard lock(s.mutex);
        if (s.streaming)
            throw error(errc::invalid_argument, "testsource stream is already running");
        s.streaming = true;
        s.stream_from = from;
        s.cursor = from;
        s.rewind.reset();
    }
    const auto cs = co_await asio::this_coro::cancellation_state;
    std::exception_ptr failure;
    try {
        const auto start = s.db->entry_number_at(from);
        s.delivered_entries = start;
        s.set_running_state();
        co_await s.deliver(handler, start, from, cs);
    } catch (...) {
        failure = std::current_exception();
    }
    {
        std::lock_guard lock(s.mutex);
        s.streaming = false;
        s.rewind.reset();
    }
    // Terminal cancellation (or close) ends the stream normally, whatever the handler threw
    // while it was being cancelled.
    if (!failure || is_cancelled(cs) || s.closed) {
        if (!s.closed) s.state = source_state::connected;
        co_return;
    }
    try {
        std::rethrow_exception(failure);
    } catch (const boost::system::system_error& e) {
        s.state = state_after_failure(e.code());
        throw;
    } catch (...) {
        s.state = source_state::error;
        throw;
    }
}

awaitable<void> test_source::ack(position pos) {
    impl& s = *impl_;
    s.begin_call(step::ack);
    if (pos.empty()) throw error(errc::invalid_position, "testsource ack: an empty position");
    const position newest = s.db->head();
    if (s.compare(pos, newest) > 0) {
        throw error(errc::invalid_argument,
                    fmt::format("testsource ack of {}: beyond the newest change {}",
                                pos.debug_string(), newest.debug_string()));
    }
    position forget;
    {
        std::lock_guard lock(s.mutex);
        s.acks.push_back(pos);
        // Keep what the running stream has not delivered yet, as a server keeps what a live
        // connection still has to send whatever was confirmed.
        if (!s.options.keep_acked_history) {
            forget = s.streaming && s.compare(s.cursor, pos) < 0 ? s.cursor : pos;
        }
    }
    s.db->ack(pos, s.options.supports_resume, forget);
    co_return;
}

bool test_source::supports_resume() const { return impl_->options.supports_resume; }

awaitable<std::optional<position>> test_source::last_acked_position() {
    impl_->begin_call(step::last_acked_position);
    if (!impl_->options.supports_resume) co_return std::nullopt;
    co_return impl_->db->acked();
}

awaitable<bool> test_source::can_resume_from(const position& pos) {
    impl_->begin_call(step::can_resume_from);
    co_return impl_->options.supports_resume && !pos.empty() && impl_->db->can_stream_from(pos);
}

int test_source::compare_positions(const position& a, const position& b) const {
    return impl_->compare(a, b);
}

std::string test_source::position_to_string(const position& pos) const {
    return format_position(impl_->options.positions, pos);
}

position test_source::position_from_string(std::string_view text) const {
    return parse_position(impl_->options.positions, text);
}

awaitable<void> test_source::pause() {
    impl& s = *impl_;
    s.begin_call(step::pause);
    s.paused = true;
    if (s.state == source_state::streaming) s.state = source_state::paused;
    co_return;
}

awaitable<void> test_source::resume() {
    impl& s = *impl_;
    s.begin_call(step::resume);
    s.paused = false;
    if (s.state == source_state::paused) s.state = source_state::streaming;
    s.wake.cancel();
    co_return;
}

lag_info test_source::lag() const {
    const auto appended = impl_->db->appended();
    const auto delivered = impl_->delivered_entries.load();
    return lag_info{static_cast<std::int64_t>(appended > delivered ? appended - delivered : 0),
                    std::nullopt};
}

ordering_guarantee test_source::ordering() const { return impl_->options.ordering; }

source_state test_source::state() const { return impl_->state; }

awaitable<void> test_source::close() {
    impl& s = *impl_;
    s.begin_call(step::close);
    s.closed = true;
    s.paused = false;
    s.state = source_state::closed;
    s.wake.cancel();
    s.wake_waiters();
    co_return;
}

}  // namespace laredo::sources::testsource
