#include "csv_source.hpp"

#include "change_log.hpp"
#include "csv_reader.hpp"
#include "laredo/error.hpp"

#include <fmt/format.h>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <algorithm>
#include <charconv>

namespace laredo::examples {
namespace asio = boost::asio;
using asio::awaitable;

csv_source::csv_source(asio::any_io_executor executor, std::filesystem::path dir,
                       std::chrono::milliseconds poll_interval)
    : strand_(asio::make_strand(executor)), dir_(std::move(dir)), poll_interval_(poll_interval) {}

std::filesystem::path csv_source::table_path(const table_identifier& t) const {
    return dir_ / (t.schema + "." + t.table + ".csv");
}

awaitable<table_schemas> csv_source::init(const source_config& config) {
    state_ = source_state::connecting;
    table_schemas out;
    try {
        for (const auto& t : config.tables) {
            const auto header = csv_reader::open(table_path(t)).next();
            if (!header) throw error(errc::schema_mismatch, table_path(t).string() + ": no header");
            // [guide:columns]
            // name, type, type OID, nullable, key, ordinal, key ordinal: the first is the key
            for (int i = 0; i < int(header->size()); ++i) {
                out[t].push_back({(*header)[i], "text", 0, i > 0, i == 0, i + 1, i == 0 ? 1 : 0});
            }
            // [/guide:columns]
            schemas_[t] = row_schema::make(out[t]);
        }
    } catch (...) {
        state_ = source_state::error;
        throw;
    }
    closed_ = false;
    state_ = source_state::connected;
    co_return out;
}

awaitable<std::vector<validation_error>> csv_source::validate_tables(
    const std::vector<table_identifier>& tables) {
    std::vector<validation_error> errors;
    for (const auto& t : tables) {
        if (std::filesystem::exists(table_path(t))) continue;
        errors.push_back({t, "TABLE_NOT_FOUND", "CSV file not found: " + table_path(t).string()});
    }
    co_return errors;
}

awaitable<position> csv_source::baseline(const std::vector<table_identifier>& tables,
                                         baseline_sink& sink) {
    std::error_code missing;  // no changes.log yet: the stream starts at 0
    const auto at = std::filesystem::file_size(dir_ / "changes.log", missing);
    for (const auto& t : tables) {
        const auto s = schemas_.find(t);
        if (s == schemas_.end()) throw error(errc::unknown_table, t.to_string() + " not in init");
        auto reader = csv_reader::open(table_path(t));
        std::vector<row> batch;
        for (reader.next(); auto fields = reader.next();) {                // after the header
            if (fields->size() == 1 && fields->front().empty()) continue;  // a blank line
            if (fields->size() != s->second->size()) {
                throw error(errc::corrupt_data,
                            fmt::format("{} record {}: {} fields, not {}", t.to_string(),
                                        reader.record_number(), fields->size(), s->second->size()));
            }
            batch.emplace_back(s->second, std::vector<value>(fields->begin(), fields->end()));
            if (batch.size() < 256) continue;
            auto full = std::exchange(batch, std::vector<row>());
            co_await sink.on_rows(t, std::move(full));
        }
        if (!batch.empty()) co_await sink.on_rows(t, std::move(batch));
    }
    co_return position::from_sequence(missing ? 0 : at);
}

// [guide:csv-stream]
awaitable<void> csv_source::stream(position from, change_handler& handler) {
    const auto cs = co_await asio::this_coro::cancellation_state;
    const auto stopped = [&] { return cs.cancelled() != asio::cancellation_type::none || closed_; };
    auto cursor = log_cursor_at(dir_ / "changes.log", from.empty() ? 0 : from.sequence());
    delivered_ = cursor.offset;
    state_ = paused_ ? source_state::paused : source_state::streaming;
    asio::steady_timer poll(strand_);
    try {
        while (!stopped()) {
            auto batch = paused_ ? std::vector<change_event>()
                                 : read_change_log(dir_ / "changes.log", cursor, schemas_);
            if (!batch.empty()) {
                co_await handler.on_changes(std::move(batch));
                delivered_ = cursor.offset;
                continue;
            }
            poll.expires_after(poll_interval_);
            co_await poll.async_wait(asio::as_tuple(asio::use_awaitable));
        }
    } catch (...) {
        if (!stopped()) {  // a handler interrupted by the cancellation is a normal end
            state_ = source_state::error;
            throw;
        }
    }
    if (!closed_) state_ = source_state::connected;
}
// [/guide:csv-stream]

int csv_source::compare_positions(const position& a, const position& b) const {
    const auto rank = [](const position& p) { return p.empty() ? 0 : p.sequence() + 1; };
    return rank(a) < rank(b) ? -1 : static_cast<int>(rank(a) > rank(b));
}

std::string csv_source::position_to_string(const position& pos) const {
    return pos.empty() ? std::string() : std::to_string(pos.sequence());
}

position csv_source::position_from_string(std::string_view text) const {
    if (text.empty()) return {};  // the empty position, as position_to_string writes it
    std::uint64_t n = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
    if (ec != std::errc{} || end != text.data() + text.size()) {
        throw error(errc::invalid_position,
                    fmt::format("invalid csv position \"{}\": expected a byte offset", text));
    }
    return position::from_sequence(n);
}

lag_info csv_source::lag() const {
    std::error_code ec;
    const auto size = std::int64_t(std::filesystem::file_size(dir_ / "changes.log", ec));
    if (ec) return {};
    return {std::max<std::int64_t>(0, size - std::int64_t(delivered_.load())), {}};
}

}  // namespace laredo::examples
