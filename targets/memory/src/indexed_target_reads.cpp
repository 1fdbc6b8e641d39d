// The indexed target's read API: shared lock, decoded copies.
#include "laredo/targets/memory/indexed_target.hpp"

#include "indexed_target_impl.hpp"
#include "row_store.hpp"
#include "table_layout.hpp"

#include "laredo/error.hpp"

#include <fmt/format.h>

namespace laredo::targets::memory {

using detail::row_store;

namespace {

std::string column_list(const row_schema& schema, const std::vector<std::size_t>& columns) {
    std::string out;
    for (std::size_t c : columns) {
        if (!out.empty()) out += ", ";
        out += schema.column(c).name;
    }
    return out;
}

void check_count(std::string_view what, const row_schema& schema,
                 const std::vector<std::size_t>& columns, std::size_t given) {
    if (given == columns.size()) return;
    throw error(errc::invalid_argument,
                fmt::format("memory.indexed: {} has {} columns ({}) but {} values were given", what,
                            columns.size(), column_list(schema, columns), given));
}

}  // namespace

std::optional<row> indexed_target::get(const std::vector<value>& key) const {
    const auto lock = impl_->core_.read_lock();
    const row_store* live = impl_->live();
    if (!live) return std::nullopt;
    check_count("the key", *impl_->schema(), live->key_columns(), key.size());
    const auto views = detail::views_of(key);
    const packed_view r = live->find(views);
    if (r.empty()) return std::nullopt;
    return r.to_row(impl_->schema());
}

std::vector<row> indexed_target::lookup_all(const std::vector<value>& values) const {
    if (impl_->options_.lookup_fields.empty()) {
        throw error(errc::invalid_argument,
                    "memory.indexed: lookup needs lookup fields, and none are configured");
    }
    const auto lock = impl_->core_.read_lock();
    std::vector<row> out;
    const row_store* live = impl_->live();
    if (!live) return out;
    const std::size_t index = impl_->lookup_position_;
    check_count("the lookup", *impl_->schema(), live->indexes()[index].columns, values.size());
    const auto views = detail::views_of(values);
    for (packed_view r : live->index_lookup(index, views)) out.push_back(r.to_row(impl_->schema()));
    return out;
}

std::optional<row> indexed_target::lookup(const std::vector<value>& values) const {
    auto all = lookup_all(values);
    if (all.empty()) return std::nullopt;
    return std::move(all.front());
}

std::vector<row> indexed_target::lookup_index(std::string_view index,
                                              const std::vector<value>& values) const {
    const auto lock = impl_->core_.read_lock();
    const row_store* live = impl_->live();
    const std::size_t pos = index.empty() || !live ? row_store::npos : live->index_position(index);
    if (pos == row_store::npos) {
        std::string names;
        for (const auto& idx : impl_->options_.indexes) {
            if (!names.empty()) names += ", ";
            names += idx.name;
        }
        throw error(errc::invalid_argument,
                    fmt::format("memory.indexed has no index \"{}\" (indexes: {})", index,
                                names.empty() ? "none" : names));
    }
    const schema_ptr& schema = impl_->schema();
    check_count(fmt::format("index \"{}\"", index), *schema, live->indexes()[pos].columns,
                values.size());
    const auto views = detail::views_of(values);
    std::vector<row> out;
    for (packed_view r : live->index_lookup(pos, views)) out.push_back(r.to_row(schema));
    return out;
}

std::size_t indexed_target::count() const {
    const auto lock = impl_->core_.read_lock();
    const row_store* live = impl_->live();
    return live ? live->size() : 0;
}

std::size_t indexed_target::packed_bytes() const {
    const auto lock = impl_->core_.read_lock();
    const row_store* live = impl_->live();
    return live ? live->packed_bytes() : 0;
}

std::size_t indexed_target::index_bytes() const {
    const auto lock = impl_->core_.read_lock();
    const row_store* live = impl_->live();
    return live ? live->table_bytes() : 0;
}

void indexed_target::for_each(const std::function<void(const row&)>& fn) const {
    const auto lock = impl_->core_.read_lock();
    const row_store* live = impl_->live();
    if (!live) return;
    const schema_ptr& schema = impl_->schema();
    for (packed_view r : live->in_key_order()) fn(r.to_row(schema));
}

void indexed_target::for_each_row(const table_identifier&,
                                  const std::function<void(const row&)>& fn) const {
    // The engine's visits (validation, expiry) need no order: no sort.
    const auto lock = impl_->core_.read_lock();
    const row_store* live = impl_->live();
    if (!live) return;
    const schema_ptr& schema = impl_->schema();
    live->for_each([&](packed_view r) { fn(r.to_row(schema)); });
}

std::vector<row> indexed_target::rows() const {
    const auto lock = impl_->core_.read_lock();
    std::vector<row> out;
    const row_store* live = impl_->live();
    if (!live) return out;
    const schema_ptr& schema = impl_->schema();
    out.reserve(live->size());
    for (packed_view r : live->in_key_order()) out.push_back(r.to_row(schema));
    return out;
}

schema_ptr indexed_target::schema() const {
    const auto lock = impl_->core_.read_lock();
    return impl_->schema();
}

std::optional<row> indexed_target::find(const row& identity) const {
    const auto lock = impl_->core_.read_lock();
    const row_store* store = impl_->rows_of(impl_->core_.writing());
    if (!store) return std::nullopt;
    const schema_ptr& schema = impl_->schema();
    const auto key = detail::key_of(identity, *schema, store->key_columns());
    const packed_view r = store->find(key);
    if (r.empty()) return std::nullopt;
    return r.to_row(schema);
}

subscription indexed_target::listen(listener fn) { return impl_->listeners_->add(std::move(fn)); }

}  // namespace laredo::targets::memory
