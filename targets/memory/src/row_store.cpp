#include "row_store.hpp"

#include "table_layout.hpp"

#include "laredo/error.hpp"

#include <fmt/format.h>

#include <iterator>

namespace laredo::targets::memory::detail {

namespace {

key_views columns_of(packed_view r, std::span<const std::size_t> columns) {
    key_views out;
    for (std::size_t c : columns) out.push_back(r[c]);
    return out;
}

}  // namespace

bool row_store::key_less::operator()(const packed_row& a, const packed_row& b) const noexcept {
    return compare_columns(a.view(), b.view(), columns) < 0;
}
bool row_store::key_less::operator()(const packed_row& a, const key_probe& b) const noexcept {
    return compare_columns(a.view(), b.values, columns) < 0;
}
bool row_store::key_less::operator()(const key_probe& a, const packed_row& b) const noexcept {
    return compare_columns(b.view(), a.values, columns) > 0;
}
bool row_store::key_less::operator()(const packed_row& a, packed_view b) const noexcept {
    return compare_columns(a.view(), b, columns) < 0;
}
bool row_store::key_less::operator()(packed_view a, const packed_row& b) const noexcept {
    return compare_columns(a, b.view(), columns) < 0;
}

bool row_store::index_less::operator()(const std::byte* a, const std::byte* b) const noexcept {
    const packed_view va(a), vb(b);
    if (const auto o = compare_columns(va, vb, columns); o != 0) return o < 0;
    return compare_columns(va, vb, key_columns) < 0;
}
bool row_store::index_less::operator()(const std::byte* a, const key_probe& b) const noexcept {
    return compare_columns(packed_view(a), b.values, columns) < 0;
}
bool row_store::index_less::operator()(const key_probe& a, const std::byte* b) const noexcept {
    return compare_columns(packed_view(b), a.values, columns) > 0;
}

row_store::row_store(std::vector<std::size_t> key_columns, std::vector<index_layout> indexes)
    : key_columns_(std::move(key_columns)),
      layouts_(std::move(indexes)),
      rows_(key_less{key_columns_}) {
    indexes_.reserve(layouts_.size());
    for (const auto& l : layouts_) indexes_.emplace_back(index_less{l.columns, key_columns_});
}

std::unique_ptr<row_store> row_store::make_empty() const {
    return std::make_unique<row_store>(key_columns_, layouts_);
}

packed_view row_store::find(std::span<const value_view> key) const {
    const auto it = rows_.find(key_probe{key});
    return it == rows_.end() ? packed_view() : it->view();
}

packed_view row_store::find_same_key(packed_view r) const {
    const auto it = rows_.find(r);
    return it == rows_.end() ? packed_view() : it->view();
}

std::strong_ordering row_store::compare_keys(packed_view a, packed_view b) const noexcept {
    return compare_columns(a, b, key_columns_);
}

void row_store::check_unique(packed_view r, packed_view allowed_a, packed_view allowed_b) const {
    for (std::size_t i = 0; i < layouts_.size(); ++i) {
        const auto& layout = layouts_[i];
        if (!layout.unique) continue;
        const key_views probe = columns_of(r, layout.columns);
        // Like SQL unique indexes: a key containing null conflicts with nothing.
        bool has_null = false;
        for (const auto& v : probe) has_null = has_null || v.is_null();
        if (has_null) continue;
        const auto [first, last] = indexes_[i].equal_range(key_probe{probe});
        for (auto it = first; it != last; ++it) {
            if (*it == allowed_a.data() || *it == allowed_b.data()) continue;
            throw error(errc::target_failed,
                        fmt::format("unique index \"{}\" already holds key {} for the row with "
                                    "key {}; the row with key {} cannot take it",
                                    layout.name, describe(probe),
                                    describe(columns_of(packed_view(*it), key_columns_)),
                                    describe(columns_of(r, key_columns_))));
        }
    }
}

void row_store::index(packed_view r) {
    for (auto& idx : indexes_) idx.insert(r.data());
}

void row_store::unindex(packed_view r) noexcept {
    // The entry found compares equal on index and key columns, so it is r's own: keys are
    // unique in the store.
    for (auto& idx : indexes_) {
        if (const auto it = idx.find(r.data()); it != idx.end()) idx.erase(it);
    }
}

row_store::put_result row_store::put(packed_row r, packed_view previous) {
    const packed_view same = find_same_key(r.view());
    if (previous.data() == same.data()) previous = {};
    check_unique(r.view(), same, previous);

    put_result result;
    const std::size_t added = r.view().size_bytes();
    if (!previous.empty()) {
        unindex(previous);
        auto node = rows_.extract(rows_.find(previous));
        packed_bytes_ -= previous.size_bytes();
        result.removed = std::move(node.value());
        if (same.empty()) {
            // Reuse the removed row's tree node for the new row.
            node.value() = std::move(r);
            index(node.value().view());
            rows_.insert(std::move(node));
            packed_bytes_ += added;
            return result;
        }
    }
    if (!same.empty()) {
        unindex(same);
        const auto it = rows_.find(same);
        const auto hint = std::next(it);
        auto node = rows_.extract(it);
        packed_bytes_ -= same.size_bytes();
        result.replaced = std::move(node.value());
        node.value() = std::move(r);
        index(node.value().view());
        rows_.insert(hint, std::move(node));
    } else {
        const auto it = rows_.insert(std::move(r)).first;
        index(it->view());
    }
    packed_bytes_ += added;
    return result;
}

packed_row row_store::erase(std::span<const value_view> key) {
    const auto it = rows_.find(key_probe{key});
    if (it == rows_.end()) return {};
    unindex(it->view());
    packed_bytes_ -= it->view().size_bytes();
    auto node = rows_.extract(it);
    return std::move(node.value());
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
    for (auto it = first; it != last; ++it) out.emplace_back(*it);
    return out;
}

}  // namespace laredo::targets::memory::detail
