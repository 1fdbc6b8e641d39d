#include "table_core.hpp"

#include "table_layout.hpp"

#include <utility>

namespace laredo::targets::memory::detail {

namespace {

std::size_t checked_group_size(const table_core_options& options) {
    if (options.max_atomic_transaction_rows == 0) {
        throw error(
            errc::invalid_config,
            fmt::format("{}: max_atomic_transaction_rows must be at least 1", options.type_name));
    }
    return options.max_atomic_transaction_rows;
}

// Asks the CPU for the value arrays of a change's rows.
void prefetch_values(const change_event& c) noexcept {
    for (const row* r : {&c.new_values, &c.old_values}) {
        const auto& values = r->values();
        const auto* bytes = reinterpret_cast<const char*>(values.data());
        const std::size_t size = values.size() * sizeof(value);
        for (std::size_t at = 0; at < size; at += 64) __builtin_prefetch(bytes + at);
    }
}

}  // namespace

table_core::table_core(table_core_options options, table_writer& writer)
    : options_(std::move(options)), writer_(writer), batcher_(checked_group_size(options_)) {}

// --- lifecycle ---

void table_core::start(const table_identifier& table, schema_ptr schema, store_ptr replacement,
                       bool rows_kept) {
    store_ptr dropped;
    store_ptr dropped_shadow;
    {
        std::unique_lock lock(mutex_);
        dropped_shadow = std::move(shadow_);
        if (replacement) dropped = std::exchange(live_, std::move(replacement));
        schema_ = std::move(schema);
    }
    table_ = table;
    accepted_schema_.reset();
    forget_open_transaction();
    rebuild_ = rebuild_state::none;
    baseline_replaces_ = rows_kept;
    {
        std::lock_guard lock(position_mutex_);
        rebuild_applied_.reset();
        if (!rows_kept) {
            applied_.reset();
            restored_.reset();
        }
    }
    initialized_ = true;
}

void table_core::check_table(const table_identifier& table) const {
    if (!initialized_) {
        throw error(errc::invalid_argument, fmt::format("{}: {} was used before on_init",
                                                        options_.type_name, table.to_string()));
    }
    if (table != table_) {
        throw error(errc::invalid_argument,
                    fmt::format("{} serves {} only, not {}", options_.type_name, table_.to_string(),
                                table.to_string()));
    }
}

void table_core::check_row(const row& r) {
    if (r.schema() == schema_ || (r.schema() && r.schema() == accepted_schema_)) return;
    check_row_schema(r, schema_, table_);
    accepted_schema_ = r.schema();
}

void table_core::forget_open_transaction() noexcept {
    batcher_.reset();
    mid_transaction_ = false;
    holding_ = false;
}

void table_core::announce(std::exception_ptr failure) {
    if (failure) {
        try {
            writer_.announce();
        } catch (...) {
        }
        std::rethrow_exception(failure);
    }
    writer_.announce();
}

// --- baseline and changes ---

void table_core::replace_rows_if_reinitialised() {
    if (rebuild_ == rebuild_state::none && baseline_replaces_) {
        start_rebuild();
        rebuild_ = rebuild_state::implicit_;
    }
    baseline_replaces_ = false;
}

void table_core::baseline_rows(const table_identifier& table, std::span<const row> rows) {
    check_table(table);
    replace_rows_if_reinitialised();
    // Rows that go to a new copy are announced by the difference at the swap.
    const bool record = writer_.has_listeners() && !shadow_;
    write_store().reserve_beside(rows.size());
    std::exception_ptr failure;
    {
        std::unique_lock lock(mutex_);
        table_store& store = write_store();
        store.swap_in_reserved();
        try {
            for (const auto& r : rows) {
                check_row(r);
                writer_.put(store, r, record);
            }
        } catch (...) {
            failure = std::current_exception();
        }
    }
    announce(failure);
}

void table_core::baseline_complete(const table_identifier& table, const position& pos) {
    check_table(table);
    // An empty baseline replaces the rows found at start too.
    replace_rows_if_reinitialised();
    set_applied(pos);
    if (rebuild_ == rebuild_state::implicit_) finish_rebuild();
}

void table_core::changes(const table_identifier& table, std::span<const change_event> changes) {
    check_table(table);
    // Streaming on top of the rows found at start: this is a resume, not a baseline.
    baseline_replaces_ = false;
    std::vector<store_ptr> garbage;
    const bool listening = writer_.has_listeners();
    const auto apply = [&](std::span<const change_event* const> group) {
        write_store().reserve_beside(group.size());
        {
            std::unique_lock lock(mutex_);
            const bool record = listening && !shadow_;
            write_store().swap_in_reserved();
            // Hash tables and the changes' own values miss the cache on nearly every change:
            // loading starts while the changes before are applied, in two steps (a change's
            // values, then what the writer finds through them).
            constexpr std::size_t values_ahead = 8;
            constexpr std::size_t writer_ahead = 4;
            for (std::size_t i = 0; i < group.size(); ++i) {
                if (i + values_ahead < group.size()) prefetch_values(*group[i + values_ahead]);
                if (i + writer_ahead < group.size()) {
                    writer_.prefetch(write_store(), *group[i + writer_ahead]);
                }
                const change_event* c = group[i];
                if (c->action == change_action::truncate) {
                    store_ptr& slot = shadow_ ? shadow_ : live_;
                    // Freed after the lock is released: destroying a large table takes a while.
                    garbage.push_back(std::exchange(slot, slot->make_empty()));
                    if (record) writer_.record_truncate();
                    continue;
                }
                if (c->action != change_action::delete_) check_row(c->new_values);
                writer_.apply(write_store(), *c, record);
            }
        }
        if (group.back()->ends_transaction) set_applied(group.back()->pos);
    };
    std::exception_ptr failure;
    try {
        batcher_.feed(changes, apply);
    } catch (...) {
        failure = std::current_exception();
    }
    mid_transaction_ = batcher_.mid_transaction();
    holding_ = batcher_.holding();
    garbage.clear();
    announce(failure);
}

// --- rebuilds, restores, schema changes ---

void table_core::start_rebuild() {
    // A rebuild starts from a transaction boundary: nothing held survives it.
    forget_open_transaction();
    if (options_.rebuild_in_place) {
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
        if (writer_.has_listeners()) writer_.record_truncate();
        announce(nullptr);
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

void table_core::finish_rebuild() {
    rebuild_ = rebuild_state::none;
    if (!shadow_) return;  // rebuilt in place
    if (writer_.has_listeners()) writer_.record_difference(*live_, *shadow_);
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
    announce(nullptr);
}

void table_core::begin_rebuild(const table_identifier& table) {
    check_table(table);
    start_rebuild();
    rebuild_ = rebuild_state::explicit_;
    baseline_replaces_ = false;
}

void table_core::commit_rebuild(const table_identifier& table) {
    check_table(table);
    finish_rebuild();
}

void table_core::restore(const table_snapshot_info& info, std::vector<row> rows,
                         const position& pos) {
    check_table(info.table);
    auto fresh = live_->make_empty();
    for (const auto& r : rows) {
        check_row(r);
        writer_.put(*fresh, r, false);
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
    forget_open_transaction();
    rebuild_ = rebuild_state::none;
    baseline_replaces_ = false;
    std::lock_guard lock(position_mutex_);
    applied_ = pos;
    restored_ = pos;
    rebuild_applied_.reset();
}

void table_core::set_schema(schema_ptr schema) {
    {
        std::unique_lock lock(mutex_);
        schema_ = std::move(schema);
    }
    accepted_schema_.reset();
}

void table_core::repack(schema_ptr schema, store_ptr live, store_ptr shadow) {
    {
        std::unique_lock lock(mutex_);
        live_.swap(live);
        shadow_.swap(shadow);
        schema_ = std::move(schema);
    }
    accepted_schema_.reset();
}

// --- positions ---

void table_core::set_applied(const position& pos) {
    std::lock_guard lock(position_mutex_);
    (shadow_ ? rebuild_applied_ : applied_) = pos;
}

void table_core::position_reached(const table_identifier& table, const position& pos) {
    check_table(table);
    if (pos.empty() || batcher_.mid_transaction() || batcher_.holding()) return;
    set_applied(pos);
}

std::optional<position> table_core::confirmed_position() const {
    std::lock_guard lock(position_mutex_);
    return applied_;
}

std::optional<position> table_core::persisted_position() const {
    std::lock_guard lock(position_mutex_);
    return options_.keep_position_across_engines ? applied_ : restored_;
}

}  // namespace laredo::targets::memory::detail
