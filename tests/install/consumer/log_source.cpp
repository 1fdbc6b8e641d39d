#include "log_source.hpp"

#include <laredo/error.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <charconv>
#include <chrono>

namespace consumer {
namespace asio = boost::asio;
using asio::awaitable;
using laredo::position;

void change_log::add_table(const laredo::table_identifier& table) {
    std::lock_guard lock(mutex_);
    tables_[table];
}

bool change_log::has_table(const laredo::table_identifier& table) const {
    std::lock_guard lock(mutex_);
    return tables_.contains(table);
}

void change_log::apply(std::vector<entry> changes) {
    std::lock_guard lock(mutex_);
    for (std::size_t i = 0; i < changes.size(); ++i) {
        auto& e = changes[i];
        auto& rows = tables_.at(e.table);
        if (e.action == laredo::change_action::delete_) {
            rows.erase(e.id);
        } else {
            rows[e.id] = e.name;
        }
        e.ends_transaction = i + 1 == changes.size();
        log_.push_back(std::move(e));
    }
}

change_log::snapshot change_log::read_tables(
    const std::vector<laredo::table_identifier>& tables) const {
    std::lock_guard lock(mutex_);
    snapshot out;
    for (const auto& t : tables) out.tables[t] = tables_.at(t);
    out.log_length = log_.size();
    return out;
}

std::vector<change_log::entry> change_log::read_log(std::size_t index) const {
    std::lock_guard lock(mutex_);
    if (broken_) throw laredo::error(laredo::errc::source_failed, "the change log broke");
    if (index >= log_.size()) return {};
    return {log_.begin() + static_cast<std::ptrdiff_t>(index), log_.end()};
}

std::size_t change_log::log_length() const {
    std::lock_guard lock(mutex_);
    return log_.size();
}

void change_log::break_for_good() {
    std::lock_guard lock(mutex_);
    broken_ = true;
}

namespace {

laredo::column_definition text_column(std::string name, int ordinal, bool key) {
    laredo::column_definition c;
    c.name = std::move(name);
    c.type = "text";
    c.nullable = !key;
    c.primary_key = key;
    c.ordinal_position = ordinal;
    c.primary_key_ordinal = key ? 1 : 0;
    return c;
}

}  // namespace

log_source::log_source(asio::any_io_executor executor, std::shared_ptr<change_log> upstream)
    : strand_(asio::make_strand(executor)), upstream_(std::move(upstream)) {}

awaitable<laredo::table_schemas> log_source::init(const laredo::source_config& config) {
    state_ = laredo::source_state::connecting;
    laredo::table_schemas out;
    for (const auto& t : config.tables) {
        if (!upstream_->has_table(t)) {
            state_ = laredo::source_state::error;
            throw laredo::error(laredo::errc::unknown_table, "no table " + t.to_string());
        }
        out[t] = {text_column("id", 1, true), text_column("name", 2, false)};
        schemas_[t] = laredo::row_schema::make(out[t]);
    }
    closed_ = false;
    state_ = laredo::source_state::connected;
    co_return out;
}

awaitable<std::vector<laredo::validation_error>> log_source::validate_tables(
    const std::vector<laredo::table_identifier>& tables) {
    std::vector<laredo::validation_error> errors;
    for (const auto& t : tables) {
        if (!upstream_->has_table(t)) {
            errors.push_back({t, "TABLE_NOT_FOUND", "no table " + t.to_string()});
        }
    }
    co_return errors;
}

awaitable<position> log_source::baseline(const std::vector<laredo::table_identifier>& tables,
                                         laredo::baseline_sink& sink) {
    for (const auto& t : tables) {
        if (!schemas_.contains(t)) {
            throw laredo::error(laredo::errc::unknown_table, t.to_string() + " not in init");
        }
    }
    // One moment for every table: the stream starts exactly after what the rows include.
    const auto snapshot = upstream_->read_tables(tables);
    for (const auto& [table, rows_by_id] : snapshot.tables) {
        std::vector<laredo::row> rows;
        for (const auto& [id, name] : rows_by_id) {
            rows.emplace_back(schemas_.at(table),
                              std::vector<laredo::value>{std::to_string(id), name});
        }
        if (!rows.empty()) co_await sink.on_rows(table, std::move(rows));
    }
    co_return position::from_sequence(snapshot.log_length);
}

laredo::change_event log_source::to_event(const change_log::entry& e, std::size_t index) const {
    laredo::change_event event;
    event.table = e.table;
    event.action = e.action;
    event.pos = position::from_sequence(index + 1);
    event.timestamp = std::chrono::system_clock::now();
    event.ends_transaction = e.ends_transaction;
    const auto& schema = schemas_.at(e.table);
    if (e.action == laredo::change_action::delete_) {
        event.old_values = laredo::row(schema, {std::to_string(e.id), laredo::value()});
    } else {
        event.new_values = laredo::row(schema, {std::to_string(e.id), e.name});
    }
    return event;
}

awaitable<void> log_source::stream(position from, laredo::change_handler& handler) {
    const auto cs = co_await asio::this_coro::cancellation_state;
    const auto stopped = [&] { return cs.cancelled() != asio::cancellation_type::none || closed_; };
    std::size_t next = from.empty() ? 0 : from.sequence();
    delivered_ = next;
    state_ = paused_ ? laredo::source_state::paused : laredo::source_state::streaming;
    asio::steady_timer poll(strand_);
    try {
        while (!stopped()) {
            std::vector<laredo::change_event> batch;
            if (!paused_) {
                for (const auto& e : upstream_->read_log(next)) {
                    if (schemas_.contains(e.table)) batch.push_back(to_event(e, next));
                    ++next;
                }
            }
            if (!batch.empty()) {
                co_await handler.on_changes(std::move(batch));
                delivered_ = next;
                continue;
            }
            delivered_ = next;
            poll.expires_after(std::chrono::milliseconds(5));
            co_await poll.async_wait(asio::as_tuple(asio::use_awaitable));
        }
    } catch (...) {
        if (!stopped()) {  // a handler interrupted by the cancellation is a normal end
            state_ = laredo::source_state::error;
            throw;
        }
    }
    if (!closed_) state_ = laredo::source_state::connected;
}

int log_source::compare_positions(const position& a, const position& b) const {
    const auto rank = [](const position& p) { return p.empty() ? 0 : p.sequence() + 1; };
    return rank(a) < rank(b) ? -1 : static_cast<int>(rank(a) > rank(b));
}

std::string log_source::position_to_string(const position& pos) const {
    return pos.empty() ? std::string() : std::to_string(pos.sequence());
}

position log_source::position_from_string(std::string_view text) const {
    if (text.empty()) return {};
    std::uint64_t n = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
    if (ec != std::errc{} || end != text.data() + text.size()) {
        throw laredo::error(laredo::errc::invalid_position,
                            "invalid log position \"" + std::string(text) + "\"");
    }
    return position::from_sequence(n);
}

awaitable<void> log_source::pause() {
    paused_ = true;
    if (state_ == laredo::source_state::streaming) state_ = laredo::source_state::paused;
    co_return;
}

awaitable<void> log_source::resume() {
    paused_ = false;
    if (state_ == laredo::source_state::paused) state_ = laredo::source_state::streaming;
    co_return;
}

laredo::lag_info log_source::lag() const {
    const auto length = upstream_->log_length();
    const auto done = delivered_.load();
    return {static_cast<std::int64_t>(length > done ? length - done : 0), {}};
}

awaitable<void> log_source::close() {
    closed_ = true;
    state_ = laredo::source_state::closed;
    co_return;
}

}  // namespace consumer
