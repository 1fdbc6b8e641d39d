// The indexed target's read API: shared lock, decoded copies.
#include "laredo/targets/memory/indexed_target.hpp"

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
    std::shared_lock lock(mutex_);
    if (!live_) return std::nullopt;
    check_count("the key", *schema_, live_->key_columns(), key.size());
    const auto views = detail::views_of(key);
    const packed_view r = live_->find(views);
    if (r.empty()) return std::nullopt;
    return r.to_row(schema_);
}

std::vector<row> indexed_target::lookup_all(const std::vector<value>& values) const {
    if (options_.lookup_fields.empty()) {
        throw error(errc::invalid_argument,
                    "memory.indexed: lookup needs lookup fields, and none are configured");
    }
    std::shared_lock lock(mutex_);
    std::vector<row> out;
    if (!live_) return out;
    check_count("the lookup", *schema_, live_->indexes()[lookup_position_].columns, values.size());
    const auto views = detail::views_of(values);
    for (packed_view r : live_->index_lookup(lookup_position_, views)) {
        out.push_back(r.to_row(schema_));
    }
    return out;
}

std::optional<row> indexed_target::lookup(const std::vector<value>& values) const {
    auto all = lookup_all(values);
    if (all.empty()) return std::nullopt;
    return std::move(all.front());
}

std::vector<row> indexed_target::lookup_index(std::string_view index,
                                              const std::vector<value>& values) const {
    std::shared_lock lock(mutex_);
    const std::size_t pos =
        index.empty() || !live_ ? row_store::npos : live_->index_position(index);
    if (pos == row_store::npos) {
        std::string names;
        for (const auto& idx : options_.indexes) {
            if (!names.empty()) names += ", ";
            names += idx.name;
        }
        throw error(errc::invalid_argument,
                    fmt::format("memory.indexed has no index \"{}\" (indexes: {})", index,
                                names.empty() ? "none" : names));
    }
    check_count(fmt::format("index \"{}\"", index), *schema_, live_->indexes()[pos].columns,
                values.size());
    const auto views = detail::views_of(values);
    std::vector<row> out;
    for (packed_view r : live_->index_lookup(pos, views)) out.push_back(r.to_row(schema_));
    return out;
}

std::size_t indexed_target::count() const {
    std::shared_lock lock(mutex_);
    return live_ ? live_->size() : 0;
}

std::size_t indexed_target::packed_bytes() const {
    std::shared_lock lock(mutex_);
    return live_ ? live_->packed_bytes() : 0;
}

void indexed_target::for_each(const std::function<void(const row&)>& fn) const {
    std::shared_lock lock(mutex_);
    if (!live_) return;
    live_->for_each([&](packed_view r) { fn(r.to_row(schema_)); });
}

std::vector<row> indexed_target::rows() const {
    std::shared_lock lock(mutex_);
    std::vector<row> out;
    if (!live_) return out;
    out.reserve(live_->size());
    live_->for_each([&](packed_view r) { out.push_back(r.to_row(schema_)); });
    return out;
}

schema_ptr indexed_target::schema() const {
    std::shared_lock lock(mutex_);
    return schema_;
}

std::optional<row> indexed_target::find(const row& identity) const {
    std::shared_lock lock(mutex_);
    const row_store* store = shadow_ ? shadow_.get() : live_.get();
    if (!store) return std::nullopt;
    const auto key = detail::key_of(identity, *schema_, store->key_columns());
    const packed_view r = store->find(key);
    if (r.empty()) return std::nullopt;
    return r.to_row(schema_);
}

subscription indexed_target::listen(listener fn) { return listeners_->add(std::move(fn)); }

}  // namespace laredo::targets::memory
