// The indexed target's lifecycle and writes: init, baseline, changes, positions.
#include "laredo/targets/memory/indexed_target.hpp"

#include "indexed_target_internal.hpp"
#include "row_store.hpp"
#include "table_layout.hpp"
#include "transaction_batcher.hpp"

#include "laredo/error.hpp"

#include <fmt/format.h>

#include <set>

namespace laredo::targets::memory {

using boost::asio::awaitable;
using detail::row_store;

indexed_target::indexed_target(indexed_target_options options)
    : options_(std::move(options)),
      listeners_(std::make_shared<detail::listener_registry<const row*, const row*>>()) {
    if (options_.max_atomic_transaction_rows == 0) {
        throw error(errc::invalid_config,
                    "memory.indexed: max_atomic_transaction_rows must be at least 1");
    }
    std::set<std::string, std::less<>> names;
    for (const auto& idx : options_.indexes) {
        if (idx.name.empty())
            throw error(errc::invalid_config, "memory.indexed: an index needs a name");
        if (idx.fields.empty()) {
            throw error(errc::invalid_config,
                        fmt::format("memory.indexed: index \"{}\" has no fields", idx.name));
        }
        if (!names.insert(idx.name).second) {
            throw error(errc::invalid_config,
                        fmt::format("memory.indexed: two indexes are called \"{}\"", idx.name));
        }
    }
    batcher_ = std::make_unique<detail::transaction_batcher>(options_.max_atomic_transaction_rows);
}

indexed_target::~indexed_target() = default;

// --- layout ---

indexed_target::store_ptr indexed_target::make_store(const row_schema& schema) const {
    auto key = detail::resolve_key(schema, options_.key_columns, table_, type_name());
    std::vector<detail::index_layout> layouts;
    for (const auto& idx : options_.indexes) {
        layouts.push_back(
            {idx.name,
             detail::resolve_columns(schema, idx.fields, fmt::format("index \"{}\"", idx.name)),
             idx.unique});
    }
    if (!options_.lookup_fields.empty()) {
        // The lookup index has an empty name, which no configured index can have.
        layouts.push_back(
            {"", detail::resolve_columns(schema, options_.lookup_fields, "the lookup fields"),
             false});
    }
    return std::make_unique<row_store>(std::move(key), std::move(layouts));
}

indexed_target::store_ptr indexed_target::convert_store(const row_store& from,
                                                        const row_schema& from_schema,
                                                        const row_schema& to_schema) const {
    auto to = make_store(to_schema);
    std::vector<std::optional<std::size_t>> source(to_schema.size());
    for (std::size_t j = 0; j < to_schema.size(); ++j) {
        source[j] = from_schema.index_of(to_schema.column(j).name);
    }
    std::vector<value_view> values(to_schema.size());
    from.for_each([&](packed_view r) {
        for (std::size_t j = 0; j < values.size(); ++j) {
            values[j] = source[j] ? r[*source[j]] : value_view();
        }
        to->put(packed_row::encode(values));
    });
    return to;
}

namespace {
bool same_layout(const row_store& a, const row_store& b) {
    if (a.key_columns() != b.key_columns() || a.indexes().size() != b.indexes().size()) {
        return false;
    }
    for (std::size_t i = 0; i < a.indexes().size(); ++i) {
        if (a.indexes()[i].columns != b.indexes()[i].columns) return false;
    }
    return true;
}
}  // namespace

void indexed_target::init(const table_identifier& table, schema_ptr schema) {
    if (!schema) throw error(errc::invalid_argument, "memory.indexed: on_init needs a schema");
    if (initialized_ && table != table_ && live_ && !live_->empty()) {
        throw error(errc::invalid_argument,
                    fmt::format("memory.indexed holds rows of {} and cannot serve {} (one target "
                                "object per table)",
                                table_.to_string(), table.to_string()));
    }
    table_ = table;
    auto fresh = make_store(*schema);  // resolves every column name, or throws
    lookup_position_ = options_.indexes.size();

    store_ptr dropped;
    store_ptr dropped_shadow;
    bool rows_kept = false;
    {
        std::unique_lock lock(mutex_);
        dropped_shadow = std::move(shadow_);
        if (live_ && !live_->empty() && schema_) {
            if (detail::keeps_column_positions(*schema_, *schema) && same_layout(*live_, *fresh)) {
                rows_kept = true;
            } else if (detail::only_adds_columns(*schema_, *schema)) {
                dropped = std::exchange(live_, convert_store(*live_, *schema_, *schema));
                rows_kept = true;
            }
        }
        if (!rows_kept) dropped = std::exchange(live_, std::move(fresh));
        schema_ = std::move(schema);
    }
    accepted_schema_.reset();
    batcher_->reset();
    mid_transaction_ = false;
    holding_ = false;
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

void indexed_target::check_table(const table_identifier& table) const {
    if (!initialized_) {
        throw error(errc::invalid_argument,
                    fmt::format("memory.indexed: {} was used before on_init", table.to_string()));
    }
    if (table != table_) {
        throw error(errc::invalid_argument, fmt::format("memory.indexed serves {} only, not {}",
                                                        table_.to_string(), table.to_string()));
    }
}

void indexed_target::check_row(const row& r) {
    if (r.schema() == schema_ || (r.schema() && r.schema() == accepted_schema_)) return;
    detail::check_row_schema(r, schema_, table_);
    accepted_schema_ = r.schema();
}

row_store& indexed_target::write_store() noexcept { return shadow_ ? *shadow_ : *live_; }

// --- writes (the caller holds the write lock) ---

void indexed_target::put_row(row_store& store, const row& r, std::vector<note>* notes) {
    check_row(r);
    packed_row packed;
    if (r.is_complete()) {
        packed = packed_row::encode(r.values());
    } else {
        const auto key = detail::key_of(r, *schema_, store.key_columns());
        packed = packed_row::encode_merged(r.values(), store.find(key));
    }
    std::optional<row> new_row;
    if (notes) new_row = packed.to_row(schema_);
    auto result = store.put(std::move(packed));
    if (notes) {
        std::optional<row> old_row;
        if (result.replaced) old_row = result.replaced.to_row(schema_);
        notes->push_back({std::move(old_row), std::move(new_row)});
    }
}

void indexed_target::apply_change(const change_event& c, std::vector<note>* notes,
                                  std::vector<store_ptr>& garbage) {
    row_store& store = write_store();
    switch (c.action) {
        case change_action::insert:
            put_row(store, c.new_values, notes);
            return;
        case change_action::update: {
            if (c.old_values.empty() && c.new_values.is_complete()) {
                // The key did not change and nothing needs merging: a plain replace.
                put_row(store, c.new_values, notes);
                return;
            }
            check_row(c.new_values);
            const auto key = detail::key_of(c.identity(), *schema_, store.key_columns());
            const packed_view old = store.find(key);
            packed_row packed = old.empty() ? packed_row::encode(c.new_values.values())
                                            : packed_row::encode_merged(c.new_values.values(), old);
            std::optional<row> new_row;
            if (notes) new_row = packed.to_row(schema_);
            auto result = store.put(std::move(packed), old);
            if (!notes) return;
            if (result.replaced && result.removed) {
                // The key moved onto a row that already existed: that row is gone.
                notes->push_back({result.replaced.to_row(schema_), std::nullopt});
            }
            const packed_row& before = result.removed ? result.removed : result.replaced;
            std::optional<row> old_row;
            if (before) old_row = before.to_row(schema_);
            notes->push_back({std::move(old_row), std::move(new_row)});
            return;
        }
        case change_action::delete_: {
            const auto key = detail::key_of(c.identity(), *schema_, store.key_columns());
            packed_row gone = store.erase(key);
            if (gone && notes) notes->push_back({gone.to_row(schema_), std::nullopt});
            return;
        }
        case change_action::truncate: {
            store_ptr& slot = shadow_ ? shadow_ : live_;
            // Freed after the lock is released: destroying a large table takes a while.
            garbage.push_back(std::exchange(slot, slot->make_empty()));
            if (notes) notes->push_back({std::nullopt, std::nullopt});
            return;
        }
    }
}

void indexed_target::set_applied(const position& pos) {
    std::lock_guard lock(position_mutex_);
    if (shadow_) {
        rebuild_applied_ = pos;
    } else {
        applied_ = pos;
    }
}

void indexed_target::apply_changes(std::span<const change_event> changes) {
    std::vector<note> notes;
    std::vector<store_ptr> garbage;
    const bool notify_wanted = !listeners_->empty();
    const auto apply = [&](std::span<const change_event* const> group) {
        {
            std::unique_lock lock(mutex_);
            // Changes to a shadow copy are announced by the diff at commit.
            std::vector<note>* sink = notify_wanted && !shadow_ ? &notes : nullptr;
            for (const auto* c : group) apply_change(*c, sink, garbage);
        }
        if (group.back()->ends_transaction) set_applied(group.back()->pos);
    };
    std::exception_ptr failure;
    try {
        batcher_->feed(changes, apply);
    } catch (...) {
        failure = std::current_exception();
    }
    mid_transaction_ = batcher_->mid_transaction();
    holding_ = batcher_->holding();
    garbage.clear();
    if (failure) {
        // What was applied before the failure is announced; the failure is what matters.
        try {
            notify(notes);
        } catch (...) {
        }
        std::rethrow_exception(failure);
    }
    notify(notes);
}

void indexed_target::apply_baseline(std::span<const row> rows) {
    if (rebuild_ == rebuild_state::none && baseline_replaces_) {
        start_rebuild();
        rebuild_ = rebuild_state::implicit_;
    }
    baseline_replaces_ = false;
    std::vector<note> notes;
    const bool notify_wanted = !listeners_->empty();
    std::exception_ptr failure;
    {
        std::unique_lock lock(mutex_);
        std::vector<note>* sink = notify_wanted && !shadow_ ? &notes : nullptr;
        try {
            for (const auto& r : rows) put_row(write_store(), r, sink);
        } catch (...) {
            failure = std::current_exception();
        }
    }
    if (failure) {
        try {
            notify(notes);
        } catch (...) {
        }
        std::rethrow_exception(failure);
    }
    notify(notes);
}

void indexed_target::complete_baseline(const position& pos) {
    if (rebuild_ == rebuild_state::none && baseline_replaces_) {
        // An empty baseline replaces the rows found at on_init too.
        start_rebuild();
        rebuild_ = rebuild_state::implicit_;
    }
    baseline_replaces_ = false;
    set_applied(pos);
    if (rebuild_ == rebuild_state::implicit_) finish_rebuild();
}

void indexed_target::notify(const std::vector<note>& notes) {
    try {
        listeners_->dispatch(notes, [](const listener& fn, const note& n) {
            fn(n.old_row ? &*n.old_row : nullptr, n.new_row ? &*n.new_row : nullptr);
        });
    } catch (const std::exception& e) {
        throw error(errc::target_failed,
                    fmt::format("a change listener of memory.indexed ({}) failed: {}",
                                table_.to_string(), e.what()));
    } catch (...) {
        throw error(
            errc::target_failed,
            fmt::format("a change listener of memory.indexed ({}) failed", table_.to_string()));
    }
}

// --- positions ---

bool indexed_target::is_durable() const { return !holding_ && !mid_transaction_; }

std::optional<position> indexed_target::confirmed_position() const {
    std::lock_guard lock(position_mutex_);
    return applied_;
}

void indexed_target::on_position_reached(const table_identifier& table, const position& pos) {
    check_table(table);
    if (pos.empty() || batcher_->mid_transaction() || batcher_->holding()) return;
    set_applied(pos);
}

std::optional<position> indexed_target::persisted_position() const {
    std::lock_guard lock(position_mutex_);
    return options_.keep_position_across_engines ? applied_ : restored_;
}

// --- the coroutine surface: everything runs synchronously on the caller's strand ---

awaitable<void> indexed_target::on_init(const table_identifier& table, schema_ptr schema) {
    init(table, std::move(schema));
    co_return;
}

awaitable<void> indexed_target::on_baseline_rows(const table_identifier& table,
                                                 std::span<const row> rows) {
    check_table(table);
    apply_baseline(rows);
    co_return;
}

awaitable<void> indexed_target::on_baseline_complete(const table_identifier& table,
                                                     const position& pos) {
    check_table(table);
    complete_baseline(pos);
    co_return;
}

awaitable<void> indexed_target::on_changes(const table_identifier& table,
                                           std::span<const change_event> changes) {
    check_table(table);
    // Streaming on top of the rows found at on_init: this is a resume, not a baseline.
    baseline_replaces_ = false;
    apply_changes(changes);
    co_return;
}

awaitable<void> indexed_target::on_insert(const table_identifier& table,
                                          const change_event& change) {
    co_await on_changes(table, std::span<const change_event>(&change, 1));
}

awaitable<void> indexed_target::on_update(const table_identifier& table,
                                          const change_event& change) {
    co_await on_changes(table, std::span<const change_event>(&change, 1));
}

awaitable<void> indexed_target::on_delete(const table_identifier& table,
                                          const change_event& change) {
    co_await on_changes(table, std::span<const change_event>(&change, 1));
}

awaitable<void> indexed_target::on_truncate(const table_identifier& table,
                                            const change_event& change) {
    co_await on_changes(table, std::span<const change_event>(&change, 1));
}

}  // namespace laredo::targets::memory
