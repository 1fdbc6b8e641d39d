#include "recording_target.hpp"

namespace laredo::testing::detail {

using boost::asio::awaitable;

awaitable<void> recording_target::on_init(const table_identifier&, schema_ptr) { co_return; }

awaitable<void> recording_target::on_baseline_rows(const table_identifier&,
                                                   std::span<const row> rows) {
    std::lock_guard lock(mutex_);
    for (const auto& r : rows) baseline_keys_.push_back(r.key());
    co_return;
}

awaitable<void> recording_target::on_baseline_complete(const table_identifier&,
                                                       const position& pos) {
    std::lock_guard lock(mutex_);
    ++baselines_;
    applied_ = pos;
    co_return;
}

void recording_target::record(const change_event& c) {
    changes_.push_back(key_of_event(c));
    if (!c.pos.empty()) applied_ = c.pos;
}

awaitable<void> recording_target::on_changes(const table_identifier&,
                                             std::span<const change_event> changes) {
    std::lock_guard lock(mutex_);
    for (const auto& c : changes) record(c);
    co_return;
}

awaitable<void> recording_target::on_insert(const table_identifier&, const change_event& c) {
    std::lock_guard lock(mutex_);
    record(c);
    co_return;
}

awaitable<void> recording_target::on_update(const table_identifier&, const change_event& c) {
    std::lock_guard lock(mutex_);
    record(c);
    co_return;
}

awaitable<void> recording_target::on_delete(const table_identifier&, const change_event& c) {
    std::lock_guard lock(mutex_);
    record(c);
    co_return;
}

awaitable<void> recording_target::on_truncate(const table_identifier&, const change_event& c) {
    std::lock_guard lock(mutex_);
    record(c);
    co_return;
}

awaitable<void> recording_target::begin_rebuild(const table_identifier&) {
    std::lock_guard lock(mutex_);
    ++rebuilds_;
    baseline_keys_.clear();
    co_return;
}

awaitable<void> recording_target::commit_rebuild(const table_identifier&) { co_return; }

void recording_target::on_position_reached(const table_identifier&, const position& pos) {
    std::lock_guard lock(mutex_);
    applied_ = pos;
}

std::optional<position> recording_target::persisted_position() const {
    if (!persistent_) return std::nullopt;
    std::lock_guard lock(mutex_);
    return applied_;
}

std::vector<change_key> recording_target::changes() const {
    std::lock_guard lock(mutex_);
    return changes_;
}

std::size_t recording_target::change_count() const {
    std::lock_guard lock(mutex_);
    return changes_.size();
}

std::vector<std::vector<value>> recording_target::baseline_keys() const {
    std::lock_guard lock(mutex_);
    return baseline_keys_;
}

std::size_t recording_target::baselines_completed() const {
    std::lock_guard lock(mutex_);
    return baselines_;
}

std::size_t recording_target::rebuilds() const {
    std::lock_guard lock(mutex_);
    return rebuilds_;
}

std::optional<position> recording_target::applied() const {
    std::lock_guard lock(mutex_);
    return applied_;
}

}  // namespace laredo::testing::detail
