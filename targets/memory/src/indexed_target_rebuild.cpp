// The indexed target's whole-table operations: rebuild, restore, schema changes.
#include "laredo/targets/memory/indexed_target.hpp"

#include "indexed_target_internal.hpp"
#include "row_store.hpp"
#include "table_layout.hpp"
#include "transaction_batcher.hpp"

#include "laredo/error.hpp"

#include <fmt/format.h>

namespace laredo::targets::memory {

using boost::asio::awaitable;
using detail::row_store;

void indexed_target::start_rebuild() {
    // A rebuild starts from a transaction boundary: nothing held survives it.
    batcher_->reset();
    mid_transaction_ = false;
    holding_ = false;
    if (options_.rebuild == rebuild_mode::reset) {
        store_ptr old;
        {
            std::unique_lock lock(mutex_);
            old = std::exchange(live_, live_->make_empty());
            shadow_.reset();
        }
        {
            std::lock_guard lock(position_mutex_);
            applied_.reset();  // an emptied table is consistent with no position
        }
        old.reset();
        std::vector<note> notes;
        notes.push_back({std::nullopt, std::nullopt});
        notify(notes);
        return;
    }
    auto fresh = live_->make_empty();
    store_ptr abandoned;
    {
        std::unique_lock lock(mutex_);
        abandoned = std::exchange(shadow_, std::move(fresh));
    }
    std::lock_guard lock(position_mutex_);
    rebuild_applied_.reset();
}

void indexed_target::finish_rebuild() {
    rebuild_ = rebuild_state::none;
    if (!shadow_) return;  // reset mode: the rows were rebuilt in place
    std::vector<note> notes;
    if (!listeners_->empty()) notes = diff(*live_, *shadow_);
    store_ptr old;
    {
        std::unique_lock lock(mutex_);
        old = std::exchange(live_, std::move(shadow_));
        shadow_.reset();
    }
    {
        std::lock_guard lock(position_mutex_);
        applied_ = std::exchange(rebuild_applied_, std::nullopt);
    }
    old.reset();
    notify(notes);
}

std::vector<indexed_target::note> indexed_target::diff(const row_store& before,
                                                       const row_store& after) const {
    std::vector<note> notes;
    before.merge_walk(after, [&](packed_view old_row, packed_view new_row) {
        if (!old_row.empty() && !new_row.empty() && old_row == new_row) return;
        note n;
        if (!old_row.empty()) n.old_row = old_row.to_row(schema_);
        if (!new_row.empty()) n.new_row = new_row.to_row(schema_);
        notes.push_back(std::move(n));
    });
    return notes;
}

void indexed_target::restore(const table_snapshot_info& info, std::vector<row> rows,
                             const position& pos) {
    check_table(info.table);
    auto fresh = live_->make_empty();
    for (const auto& r : rows) {
        check_row(r);
        fresh->put(packed_row::encode(r.values()));
    }
    rows.clear();
    store_ptr old_live;
    store_ptr old_shadow;
    {
        std::unique_lock lock(mutex_);
        old_live = std::exchange(live_, std::move(fresh));
        old_shadow = std::move(shadow_);
        shadow_.reset();
    }
    batcher_->reset();
    mid_transaction_ = false;
    holding_ = false;
    rebuild_ = rebuild_state::none;
    baseline_replaces_ = false;
    std::lock_guard lock(position_mutex_);
    applied_ = pos;
    restored_ = pos;
    rebuild_applied_.reset();
}

awaitable<void> indexed_target::begin_rebuild(const table_identifier& table) {
    check_table(table);
    start_rebuild();
    rebuild_ = rebuild_state::explicit_;
    baseline_replaces_ = false;
    co_return;
}

awaitable<void> indexed_target::commit_rebuild(const table_identifier& table) {
    check_table(table);
    finish_rebuild();
    co_return;
}

awaitable<void> indexed_target::restore_snapshot(const table_snapshot_info& info,
                                                 std::vector<row> rows, const position& pos) {
    restore(info, std::move(rows), pos);
    co_return;
}

awaitable<std::vector<row>> indexed_target::export_snapshot(const table_identifier& table) {
    check_table(table);
    co_return rows();
}

awaitable<schema_change_response> indexed_target::on_schema_change(const table_identifier& table,
                                                                   const row_schema& old_schema,
                                                                   const row_schema& new_schema) {
    check_table(table);
    if (!detail::only_adds_columns(old_schema, new_schema) ||
        !detail::only_adds_columns(*schema_, new_schema)) {
        co_return schema_change_response{
            schema_change_action::rebaseline,
            fmt::format("columns of {} changed beyond additions: re-baseline", table.to_string())};
    }
    auto next = std::make_shared<const row_schema>(new_schema);
    if (detail::keeps_column_positions(*schema_, new_schema)) {
        std::unique_lock lock(mutex_);
        schema_ = std::move(next);
    } else {
        // Rows are packed by column position: re-pack them in the new order.
        auto live = convert_store(*live_, *schema_, new_schema);
        store_ptr shadow = shadow_ ? convert_store(*shadow_, *schema_, new_schema) : nullptr;
        std::unique_lock lock(mutex_);
        live_.swap(live);
        shadow_.swap(shadow);
        schema_ = std::move(next);
    }
    accepted_schema_.reset();
    // ALTER TABLE ... ADD COLUMN ... DEFAULT gives every existing row the default without a
    // change for any of them: the rows take the new columns now (reading null), and only a
    // new copy of the table has the default in them.
    if (const auto with_defaults = detail::added_columns_with_defaults(old_schema, new_schema);
        !with_defaults.empty()) {
        co_return schema_change_response{
            schema_change_action::rebaseline,
            fmt::format("columns added to {} with a default, which stored rows lack: {}; "
                        "re-baseline",
                        table.to_string(), with_defaults)};
    }
    co_return schema_change_response{
        schema_change_action::continue_,
        fmt::format("columns added to {}: {}", table.to_string(),
                    detail::added_column_names(old_schema, new_schema))};
}

}  // namespace laredo::targets::memory
