#pragma once

// A source that hands the engine exactly the on_changes calls a test scripted, so a test
// decides where a transaction is split between calls (the test source cuts at a fixed batch
// size). Positions are sequences; the baseline is empty and at position 0. Everything after
// the script waits for cancellation, as a quiet replication stream does.

#include "laredo/error.hpp"
#include "laredo/sync_source.hpp"

#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <atomic>
#include <charconv>
#include <map>
#include <mutex>
#include <vector>

namespace laredo::testing {

class scripted_source final : public sync_source {
  public:
    using call = std::vector<change_event>;
    // `plain`: get_executor() returns the executor it was given, not a strand (which the
    // engine refuses).
    enum class executor_kind : std::uint8_t { strand, plain };

    scripted_source(boost::asio::any_io_executor ex, table_schemas schemas, std::vector<call> calls,
                    executor_kind kind = executor_kind::strand)
        : plain_(ex),
          strand_(boost::asio::make_strand(ex)),
          kind_(kind),
          schemas_(std::move(schemas)),
          calls_(std::move(calls)) {}

    boost::asio::any_io_executor get_executor() const override {
        if (kind_ == executor_kind::plain) return plain_;
        return strand_;
    }
    std::string type_name() const override { return "scripted"; }

    boost::asio::awaitable<table_schemas> init(const source_config& config) override {
        table_schemas out;
        for (const auto& t : config.tables) out[t] = schemas_.at(t);
        co_return out;
    }
    boost::asio::awaitable<std::vector<validation_error>> validate_tables(
        const std::vector<table_identifier>&) override {
        co_return std::vector<validation_error>{};
    }
    boost::asio::awaitable<position> baseline(const std::vector<table_identifier>&,
                                              baseline_sink&) override {
        co_return position::from_sequence(0);
    }
    boost::asio::awaitable<void> stream(position, change_handler& handler) override {
        for (auto& c : calls_) co_await handler.on_changes(std::move(c));
        calls_.clear();
        delivered_ = true;
        // Nothing more: wait for the engine's terminal cancellation, then return normally.
        boost::asio::steady_timer idle(strand_, boost::asio::steady_timer::time_point::max());
        boost::system::error_code ec;
        co_await idle.async_wait(boost::asio::redirect_error(boost::asio::use_awaitable, ec));
    }
    boost::asio::awaitable<void> ack(position pos) override {
        std::lock_guard lock(mutex_);
        acked_.push_back(std::move(pos));
        co_return;
    }
    bool supports_resume() const override { return false; }
    boost::asio::awaitable<std::optional<position>> last_acked_position() override {
        co_return std::nullopt;
    }
    int compare_positions(const position& a, const position& b) const override {
        const auto x = a.empty() ? 0 : a.sequence() + 1;
        const auto y = b.empty() ? 0 : b.sequence() + 1;
        return x < y ? -1 : (x > y ? 1 : 0);
    }
    std::string position_to_string(const position& pos) const override {
        return pos.empty() ? "" : std::to_string(pos.sequence());
    }
    position position_from_string(std::string_view text) const override {
        if (text.empty()) return {};
        std::uint64_t v = 0;
        const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
        if (ec != std::errc() || end != text.data() + text.size())
            throw error(errc::invalid_position, "bad position \"" + std::string(text) + "\"");
        return position::from_sequence(v);
    }
    boost::asio::awaitable<void> pause() override { co_return; }
    boost::asio::awaitable<void> resume() override { co_return; }
    lag_info lag() const override { return {}; }
    ordering_guarantee ordering() const override { return ordering_guarantee::total_order; }
    source_state state() const override { return source_state::streaming; }
    boost::asio::awaitable<void> close() override { co_return; }

    // Thread-safe.
    bool delivered() const { return delivered_.load(); }
    std::optional<position> last_acked() const {
        std::lock_guard lock(mutex_);
        if (acked_.empty()) return std::nullopt;
        return acked_.back();
    }

  private:
    boost::asio::any_io_executor plain_;
    boost::asio::strand<boost::asio::any_io_executor> strand_;
    executor_kind kind_;
    table_schemas schemas_;
    std::vector<call> calls_;
    std::atomic<bool> delivered_{false};
    mutable std::mutex mutex_;
    std::vector<position> acked_;
};

}  // namespace laredo::testing
