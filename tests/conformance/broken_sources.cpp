#include "broken_sources.hpp"

#include "laredo/error.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <sys/socket.h>
#include <unistd.h>

namespace laredo::testing::broken {

namespace asio = boost::asio;
using asio::awaitable;

awaitable<void> rewriting_handler::on_changes(std::vector<change_event> batch) {
    fn_(batch);
    if (!batch.empty()) co_await next_.on_changes(std::move(batch));
}

awaitable<void> rewriting_handler::on_heartbeat(position pos) {
    co_await next_.on_heartbeat(std::move(pos));
}

awaitable<void> rewriting_handler::on_rewind(position pos) {
    co_await next_.on_rewind(std::move(pos));
}

awaitable<void> backwards_positions::stream(position from, change_handler& handler) {
    rewriting_handler backwards(handler, [](std::vector<change_event>& batch) {
        for (auto& e : batch) e.pos = position::from_sequence(1'000'000 - e.pos.sequence());
    });
    co_await inner_->stream(std::move(from), backwards);
}

awaitable<void> early_return_stream::stream(position, change_handler&) { co_return; }

std::string lossy_position_strings::position_to_string(const position& pos) const {
    const auto text = inner_->position_to_string(pos);
    return text.substr(0, text.find(':'));
}

position lenient_position_parser::position_from_string(std::string_view text) const {
    try {
        return inner_->position_from_string(text);
    } catch (const error&) {
        return position::from_sequence(0);
    }
}

socket_leaking_close::~socket_leaking_close() {
    if (socket_ >= 0) ::close(socket_);
}

awaitable<void> socket_leaking_close::close() {
    co_await inner_->close();
    if (socket_ < 0) socket_ = ::socket(AF_INET, SOCK_STREAM, 0);
}

awaitable<void> timer_leaking_close::close() {
    co_await inner_->close();
    timer_ = std::make_unique<asio::steady_timer>(inner_->get_executor(), std::chrono::hours(1));
    timer_->async_wait([](boost::system::error_code) {});
}

awaitable<void> swallowed_failure::stream(position from, change_handler& handler) {
    try {
        co_await inner_->stream(std::move(from), handler);
    } catch (const error&) {
        // "handled": wait quietly for cancellation instead of reporting the failure
    }
    asio::steady_timer forever(inner_->get_executor(), asio::steady_timer::time_point::max());
    co_await forever.async_wait(asio::as_tuple(asio::use_awaitable));
}

awaitable<void> lossy_stream::stream(position from, change_handler& handler) {
    std::size_t seen = 0;
    rewriting_handler lossy(handler, [&seen](std::vector<change_event>& batch) {
        std::erase_if(batch, [&seen](const change_event&) { return ++seen % 5 == 0; });
    });
    co_await inner_->stream(std::move(from), lossy);
}

awaitable<table_schemas> keyless_init::init(const source_config& config) {
    auto schemas = co_await inner_->init(config);
    for (auto& [table, columns] : schemas) {
        for (auto& c : columns) {
            c.primary_key = false;
            c.primary_key_ordinal = 0;
        }
    }
    co_return schemas;
}

awaitable<table_schemas> unknown_tables_ignored::init(const source_config& config) {
    source_config known;
    for (const auto& t : config.tables)
        if (t.table != "laredo_conformance_missing") known.tables.push_back(t);
    co_return co_await inner_->init(known);
}

source_state never_paused_state::state() const {
    const auto s = inner_->state();
    return s == source_state::paused ? source_state::streaming : s;
}

awaitable<std::optional<position>> forgetful_acks::last_acked_position() {
    co_await inner_->last_acked_position();
    co_return std::nullopt;
}

awaitable<bool> forgetful_acks::can_resume_from(const position&) { co_return false; }

}  // namespace laredo::testing::broken
