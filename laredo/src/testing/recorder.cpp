#include "recorder.hpp"

#include "harness.hpp"

#include <fmt/format.h>

namespace laredo::testing::detail {

// Notes a call that starts while another one runs.
class recorder::call_guard {
  public:
    call_guard(recorder& r, const char* what) : r_(r) {
        if (r_.in_call_.fetch_add(1) != 0) {
            std::lock_guard lock(r_.mutex_);
            if (r_.violations_.size() < 5) {
                r_.violations_.push_back(fmt::format(
                    "the source called {} while another call of the handler had not returned "
                    "(the contract allows one call at a time: co_await each)",
                    what));
            }
        }
    }
    ~call_guard() { r_.in_call_.fetch_sub(1); }
    call_guard(const call_guard&) = delete;
    call_guard& operator=(const call_guard&) = delete;

  private:
    recorder& r_;
};

boost::asio::awaitable<void> recorder::on_rows(const table_identifier& table,
                                               std::vector<row> rows) {
    call_guard guard(*this, "baseline_sink::on_rows");
    std::lock_guard lock(mutex_);
    for (auto& r : rows) rows_.emplace_back(table, std::move(r));
    co_return;
}

boost::asio::awaitable<void> recorder::on_changes(std::vector<change_event> batch) {
    call_guard guard(*this, "change_handler::on_changes");
    {
        std::lock_guard lock(mutex_);
        for (auto& e : batch) timeline_.push_back(entry{kind::change, std::move(e), {}});
    }
    if (const auto d = delay_ms_.load(); d > 0) co_await sleep_for(std::chrono::milliseconds(d));
}

boost::asio::awaitable<void> recorder::on_heartbeat(position pos) {
    call_guard guard(*this, "change_handler::on_heartbeat");
    std::lock_guard lock(mutex_);
    timeline_.push_back(entry{kind::heartbeat, {}, std::move(pos)});
    co_return;
}

boost::asio::awaitable<void> recorder::on_rewind(position pos) {
    call_guard guard(*this, "change_handler::on_rewind");
    std::lock_guard lock(mutex_);
    timeline_.push_back(entry{kind::rewind, {}, std::move(pos)});
    co_return;
}

std::vector<recorder::entry> recorder::timeline() const {
    std::lock_guard lock(mutex_);
    return timeline_;
}

std::vector<std::pair<table_identifier, row>> recorder::rows() const {
    std::lock_guard lock(mutex_);
    return rows_;
}

void recorder::clear_rows() {
    std::lock_guard lock(mutex_);
    rows_.clear();
}

std::vector<change_event> recorder::changes() const {
    std::vector<change_event> out;
    for (auto& e : timeline()) {
        if (e.what == kind::change) {
            out.push_back(std::move(e.event));
            continue;
        }
        if (e.what != kind::rewind) continue;
        // Everything after the rewind position will come again.
        std::erase_if(out, [&](const change_event& c) {
            try {
                return !c.pos.empty() && source_.compare_positions(c.pos, e.pos) > 0;
            } catch (...) {
                return false;  // the positions check reports a compare that throws
            }
        });
    }
    return out;
}

std::size_t recorder::change_count() const {
    std::lock_guard lock(mutex_);
    std::size_t n = 0;
    for (const auto& e : timeline_) n += e.what == kind::change;
    return n;
}

std::optional<position> recorder::last_position() const {
    std::lock_guard lock(mutex_);
    for (auto it = timeline_.rbegin(); it != timeline_.rend(); ++it)
        if (it->what == kind::change && !it->event.pos.empty()) return it->event.pos;
    return std::nullopt;
}

std::vector<std::string> recorder::violations() const {
    std::lock_guard lock(mutex_);
    return violations_;
}

}  // namespace laredo::testing::detail
