#include "row_store.hpp"

#include "table_layout.hpp"

#include "laredo/error.hpp"

#include <fmt/format.h>

#include <iterator>
#include <utility>

namespace laredo::targets::memory::detail {

namespace {

key_views columns_of(packed_view r, std::span<const std::size_t> columns) {
    key_views out;
    for (std::size_t c : columns) out.push_back(r[c]);
    return out;
}

}  // namespace

row_store::row_store(std::vector<std::size_t> key_columns, std::vector<index_layout> indexes)
    : key_columns_(std::move(key_columns)),
      layouts_(std::move(indexes)),
      rows_(key_less{key_columns_}) {
    indexes_.reserve(layouts_.size());
    for (const auto& l : layouts_) indexes_.emplace_back(index_less{l.columns, key_columns_});
}

store_ptr row_store::make_empty() const {
    return std::make_unique<row_store>(key_columns_, layouts_);
}

packed_view row_store::find(std::span<const value_view> key) const {
    const auto it = rows_.find(key_probe{key});
    return it == rows_.end() ? packed_view() : it->row.view();
}

row_store::row_set::const_iterator row_store::find_row(packed_view r) const {
    // Decodes r's key once instead of at every level of the tree.
    const key_views key = columns_of(r, key_columns_);
    return rows_.find(key_probe{key});
}

std::strong_ordering row_store::compare_keys(packed_view a, packed_view b) const noexcept {
    return compare_columns(a, b, key_columns_);
}

void row_store::check_unique(packed_view r, packed_view allowed_a, packed_view allowed_b,
                             const index_mask& unchanged) const {
    for (std::size_t i = 0; i < layouts_.size(); ++i) {
        const auto& layout = layouts_[i];
        if (!layout.unique || (!unchanged.empty() && unchanged[i])) continue;
        const key_views probe = columns_of(r, layout.columns);
        // Like SQL unique indexes: a key containing null conflicts with nothing.
        bool has_null = false;
        for (const auto& v : probe) has_null = has_null || v.is_null();
        if (has_null) continue;
        const auto [first, last] = indexes_[i].equal_range(key_probe{probe});
        for (auto it = first; it != last; ++it) {
            if (it->row == allowed_a.data() || it->row == allowed_b.data()) continue;
            throw error(errc::target_failed,
                        fmt::format("unique index \"{}\" already holds key {} for the row with "
                                    "key {}; the row with key {} cannot take it",
                                    layout.name, describe(probe),
                                    describe(columns_of(packed_view(it->row), key_columns_)),
                                    describe(columns_of(r, key_columns_))));
        }
    }
}

void row_store::index(packed_view r, const index_mask& skip) {
    for (std::size_t i = 0; i < indexes_.size(); ++i) {
        if (skip.empty() || !skip[i]) indexes_[i].insert(index_entry{r.data()});
    }
}

void row_store::unindex(packed_view r, const index_mask& skip) noexcept {
    // The entry found compares equal on index and key columns, so it is r's own: keys are
    // unique in the store.
    for (std::size_t i = 0; i < indexes_.size(); ++i) {
        if (!skip.empty() && skip[i]) continue;
        if (const auto it = indexes_[i].find(index_entry{r.data()}); it != indexes_[i].end()) {
            indexes_[i].erase(it);
        }
    }
}

row_store::put_result row_store::put(packed_row r, packed_view previous) {
    // One descent for the common case (same key); a second only when the key changed.
    const auto same_it = find_row(r.view());
    const packed_view same = same_it == rows_.end() ? packed_view() : same_it->row.view();
    auto previous_it = rows_.cend();
    if (!previous.empty() && previous.data() != same.data()) previous_it = find_row(previous);
    if (previous_it == rows_.end()) previous = {};

    // Indexes whose values the new row keeps from the row it replaces: their entries are
    // repointed, not removed and re-added (most updates leave indexed columns alone).
    index_mask kept;
    if (!same.empty()) {
        kept.resize(layouts_.size());
        for (std::size_t i = 0; i < layouts_.size(); ++i) {
            kept[i] = compare_columns(same, r.view(), layouts_[i].columns) == 0;
        }
    }
    check_unique(r.view(), same, previous, kept);

    put_result result;
    const std::size_t added = r.view().size_bytes();
    const index_mask none;
    if (previous_it != rows_.end()) {
        unindex(previous, none);
        packed_bytes_ -= previous.size_bytes();
        auto node = rows_.extract(previous_it);
        result.removed = std::move(node.value().row);
        if (same.empty()) {
            // Reuse the removed row's tree node for the new row.
            node.value().row = std::move(r);
            index(node.value().row.view(), none);
            rows_.insert(std::move(node));
            packed_bytes_ += added;
            return result;
        }
    }
    if (!same.empty()) {
        for (std::size_t i = 0; i < indexes_.size(); ++i) {
            if (!kept[i]) continue;
            if (const auto it = indexes_[i].find(index_entry{same.data()});
                it != indexes_[i].end()) {
                it->row = r.data();  // same index values, same key: same place in the index
            }
        }
        unindex(same, kept);
        packed_bytes_ -= same.size_bytes();
        result.replaced = std::exchange(same_it->row, std::move(r));
        index(same_it->row.view(), kept);
    } else {
        const auto it = rows_.insert(slot{std::move(r)}).first;
        index(it->row.view(), none);
    }
    packed_bytes_ += added;
    return result;
}

packed_row row_store::erase(std::span<const value_view> key) {
    const auto it = rows_.find(key_probe{key});
    if (it == rows_.end()) return {};
    unindex(it->row.view(), index_mask());
    packed_bytes_ -= it->row.view().size_bytes();
    auto node = rows_.extract(it);
    return std::move(node.value().row);
}

std::size_t row_store::index_position(std::string_view name) const noexcept {
    for (std::size_t i = 0; i < layouts_.size(); ++i) {
        if (layouts_[i].name == name) return i;
    }
    return npos;
}

std::vector<packed_view> row_store::index_lookup(std::size_t index,
                                                 std::span<const value_view> values) const {
    std::vector<packed_view> out;
    const auto [first, last] = indexes_.at(index).equal_range(key_probe{values});
    for (auto it = first; it != last; ++it) out.emplace_back(it->row);
    return out;
}

}  // namespace laredo::targets::memory::detail
