// The indexed target's lifecycle and writes: init, what a change does to the rows, positions.
#include "laredo/targets/memory/indexed_target.hpp"

#include "indexed_target_impl.hpp"
#include "row_store.hpp"
#include "table_layout.hpp"

#include "laredo/error.hpp"

#include <fmt/format.h>

#include <set>

namespace laredo::targets::memory {

using boost::asio::awaitable;
using detail::row_store;
using detail::store_ptr;

namespace {

const indexed_target_options& checked(const indexed_target_options& options) {
    std::set<std::string, std::less<>> names;
    for (const auto& idx : options.indexes) {
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
    return options;
}

detail::table_core_options core_options(const indexed_target_options& options) {
    detail::table_core_options out;
    out.type_name = "memory.indexed";
    out.max_atomic_transaction_rows = options.max_atomic_transaction_rows;
    out.rebuild_in_place = options.rebuild == rebuild_mode::reset;
    out.keep_position_across_engines = options.keep_position_across_engines;
    return out;
}

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

indexed_target::impl::impl(indexed_target_options options)
    : options_(checked(options)),
      lookup_position_(options_.indexes.size()),
      listeners_(std::make_shared<detail::listener_registry<const row*, const row*>>()),
      core_(core_options(options_), *this) {}

indexed_target::indexed_target(indexed_target_options options)
    : impl_(std::make_unique<impl>(std::move(options))) {}

indexed_target::~indexed_target() = default;

// --- layout ---

store_ptr indexed_target::impl::make_store(const table_identifier& table,
                                           const row_schema& schema) const {
    auto key = detail::resolve_key(schema, options_.key_columns, table, "memory.indexed");
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

store_ptr indexed_target::impl::convert_store(const row_store& from, const row_schema& from_schema,
                                              const row_schema& to_schema) const {
    auto to = make_store(core_.table(), to_schema);
    auto& rows = static_cast<row_store&>(*to);
    std::vector<std::optional<std::size_t>> source(to_schema.size());
    for (std::size_t j = 0; j < to_schema.size(); ++j) {
        source[j] = from_schema.index_of(to_schema.column(j).name);
    }
    std::vector<value_view> values(to_schema.size());
    from.for_each([&](packed_view r) {
        for (std::size_t j = 0; j < values.size(); ++j) {
            values[j] = source[j] ? r[*source[j]] : value_view();
        }
        rows.put(values);
    });
    return to;
}

void indexed_target::impl::init(const table_identifier& table, schema_ptr schema) {
    if (!schema) throw error(errc::invalid_argument, "memory.indexed: on_init needs a schema");
    const row_store* rows = live();
    const bool has_rows = rows && !rows->empty();
    if (core_.initialized() && table != core_.table() && has_rows) {
        throw error(errc::invalid_argument,
                    fmt::format("memory.indexed holds rows of {} and cannot serve {} (one target "
                                "object per table)",
                                core_.table().to_string(), table.to_string()));
    }
    auto fresh = make_store(table, *schema);  // resolves every column name, or throws
    if (has_rows && core_.schema()) {
        const row_schema& old_schema = *core_.schema();
        if (detail::keeps_column_positions(old_schema, *schema) &&
            same_layout(*rows, static_cast<const row_store&>(*fresh))) {
            core_.start(table, std::move(schema), nullptr, true);
            return;
        }
        if (detail::only_adds_columns(old_schema, *schema)) {
            auto converted = convert_store(*rows, old_schema, *schema);
            core_.start(table, std::move(schema), std::move(converted), true);
            return;
        }
    }
    core_.start(table, std::move(schema), std::move(fresh), false);
}

// --- writes (table_core holds the write lock) ---

std::optional<row> indexed_target::impl::decoded(const detail::taken_row& r, bool record) const {
    if (!record || !r) return std::nullopt;
    return r.to_row(schema());
}

namespace {

// The columns of `r`, those it marks unchanged taken from `stored` (the TOAST merge; with no
// stored row they keep the marker).
detail::row_views merged(const row& r, packed_view stored) {
    detail::row_views out;
    packed_cursor old(stored);
    for (const auto& v : r.values()) {
        const value_view kept = old.next();
        out.push_back(v.is_unchanged() && !stored.empty() ? kept : value_view::of(v));
    }
    return out;
}

}  // namespace

void indexed_target::impl::put(detail::table_store& s, const row& r, bool record) {
    auto& store = static_cast<row_store&>(s);
    const bool complete = r.is_complete();
    packed_view stored;
    if (!complete) stored = store.find(detail::key_of(r, *schema(), store.key_columns()));
    // Without listeners a row of the same size is overwritten in place, unless the new
    // values borrow from it.
    auto result = store.put(merged(r, stored), {}, !record && complete);
    if (record) notes_.push_back({decoded(result.replaced, true), result.stored.to_row(schema())});
}

void indexed_target::impl::prefetch(const detail::table_store& s, const change_event& c) noexcept {
    // A hint only: the key is read by position, whatever schema object the row carries (a
    // row of another shape is caught when applied; its prefetch is merely wasted).
    const row& identity = c.identity();
    const auto& store = *rows_of(&s);
    detail::key_views key;
    if (c.action == change_action::truncate || store.key_columns().size() > key.capacity()) {
        return;  // nothing to find, or a key this hint would allocate for
    }
    for (std::size_t column : store.key_columns()) {
        if (column >= identity.size()) return;
        key.push_back(value_view::of(identity[column]));
    }
    store.prefetch(key);
    // The text the new row's encoding will copy.
    for (const auto& v : c.new_values.values()) {
        if (const std::string* text = v.text_if()) __builtin_prefetch(text->data());
    }
}

void indexed_target::impl::apply(detail::table_store& s, const change_event& c, bool record) {
    auto& store = static_cast<row_store&>(s);
    switch (c.action) {
        case change_action::insert:
            put(store, c.new_values, record);
            return;
        case change_action::update: {
            if (c.old_values.empty() && c.new_values.is_complete()) {
                // The key did not change and nothing needs merging: a plain replace.
                put(store, c.new_values, record);
                return;
            }
            const auto key = detail::key_of(c.identity(), *schema(), store.key_columns());
            const packed_view old = store.find(key);
            auto result =
                store.put(merged(c.new_values, old), old, !record && c.new_values.is_complete());
            if (!record) return;
            if (result.replaced && result.removed) {
                // The key moved onto a row that already existed: that row is gone.
                notes_.push_back({decoded(result.replaced, true), std::nullopt});
            }
            const detail::taken_row& before = result.removed ? result.removed : result.replaced;
            notes_.push_back({decoded(before, true), result.stored.to_row(schema())});
            return;
        }
        case change_action::delete_: {
            const auto key = detail::key_of(c.identity(), *schema(), store.key_columns());
            const detail::taken_row gone = store.erase(key);
            if (gone && record) notes_.push_back({decoded(gone, true), std::nullopt});
            return;
        }
        case change_action::truncate:
            break;  // table_core empties the store
    }
}

void indexed_target::impl::record_difference(const detail::table_store& before,
                                             const detail::table_store& after) {
    rows_of(&before)->merge_walk(*rows_of(&after), [&](packed_view old_row, packed_view new_row) {
        if (!old_row.empty() && !new_row.empty() && old_row == new_row) return;
        note n;
        if (!old_row.empty()) n.old_row = old_row.to_row(schema());
        if (!new_row.empty()) n.new_row = new_row.to_row(schema());
        notes_.push_back(std::move(n));
    });
}

void indexed_target::impl::announce() {
    const auto call = [](const listener& fn, const note& n) {
        fn(n.old_row ? &*n.old_row : nullptr, n.new_row ? &*n.new_row : nullptr);
    };
    detail::announce_to(*listeners_, notes_, call, "memory.indexed", core_.table());
}

// --- positions ---

bool indexed_target::is_durable() const { return impl_->core_.is_durable(); }

bool indexed_target::is_mid_transaction() const noexcept {
    return impl_->core_.is_mid_transaction();
}

std::optional<position> indexed_target::confirmed_position() const {
    return impl_->core_.confirmed_position();
}

std::optional<position> indexed_target::persisted_position() const {
    return impl_->core_.persisted_position();
}

void indexed_target::on_position_reached(const table_identifier& table, const position& pos) {
    impl_->core_.position_reached(table, pos);
}

// --- the coroutine surface: everything runs synchronously on the caller's strand ---

awaitable<void> indexed_target::on_init(const table_identifier& table, schema_ptr schema) {
    impl_->init(table, std::move(schema));
    co_return;
}

awaitable<void> indexed_target::on_baseline_rows(const table_identifier& table,
                                                 std::span<const row> rows) {
    impl_->core_.baseline_rows(table, rows);
    co_return;
}

awaitable<void> indexed_target::on_baseline_complete(const table_identifier& table,
                                                     const position& pos) {
    impl_->core_.baseline_complete(table, pos);
    co_return;
}

awaitable<void> indexed_target::on_changes(const table_identifier& table,
                                           std::span<const change_event> changes) {
    impl_->core_.changes(table, changes);
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
