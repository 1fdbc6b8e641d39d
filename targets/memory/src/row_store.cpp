#include "row_store.hpp"

#include "value_hash.hpp"

#include "laredo/error.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <utility>

namespace laredo::targets::memory::detail {

row_store::row_store(std::vector<std::size_t> key_columns, std::vector<index_layout> indexes)
    : key_columns_(std::move(key_columns)),
      layouts_(std::move(indexes)),
      // Rehashing reads every row again (a cache miss each): the key's table doubles.
      rows_(flat_table::growth::double_) {
    indexes_.reserve(layouts_.size());
    for (const auto& l : layouts_) indexes_.emplace_back(l);
}

row_store::~row_store() {
    // The secondary indexes point at the rows: they go before the arena that holds them.
    indexes_.clear();
}

store_ptr row_store::make_empty() const {
    return std::make_unique<row_store>(key_columns_, layouts_);
}

std::uint64_t row_store::key_hash(packed_view r) const noexcept { return hash_of(r, key_columns_); }

std::size_t row_store::find_slot(std::uint64_t hash, std::span<const value_view> key) const {
    return rows_.find(hash, [&](flat_table::word w) {
        return compare_columns(packed_view(row_of(w)), key, key_columns_) == 0;
    });
}

std::size_t row_store::find_slot(packed_view r) const {
    // Decodes r's key once, not at every candidate.
    const key_views key = columns_of(r, key_columns_);
    return find_slot(hash_of(key), key);
}

packed_view row_store::find(std::span<const value_view> key) const {
    const std::size_t slot = find_slot(hash_of(key), key);
    return slot == flat_table::npos ? packed_view() : packed_view(row_of(rows_.at(slot)));
}

void row_store::prefetch(std::span<const value_view> key) const noexcept {
    rows_.prefetch(hash_of(key));
}

std::size_t row_store::packed_bytes() const noexcept {
    std::size_t out = 0;
    for_each([&](packed_view r) { out += r.size_bytes(); });
    return out;
}

std::strong_ordering row_store::compare_keys(packed_view a, packed_view b) const noexcept {
    return compare_columns(a, b, key_columns_);
}

void row_store::sort_by_key(std::vector<packed_view>& rows) const {
    // Sorts on the first key column read once per row; the rest of the key only breaks ties.
    struct keyed {
        value_view first;
        packed_view row;
    };
    std::vector<keyed> order;
    order.reserve(rows.size());
    const std::size_t first = key_columns_.empty() ? 0 : key_columns_.front();
    for (packed_view r : rows) order.push_back({r[first], r});
    std::sort(order.begin(), order.end(), [&](const keyed& a, const keyed& b) {
        if (const auto o = a.first <=> b.first; o != 0) return o < 0;
        return compare_keys(a.row, b.row) < 0;
    });
    for (std::size_t i = 0; i < rows.size(); ++i) rows[i] = order[i].row;
}

std::vector<packed_view> row_store::in_key_order() const {
    std::vector<packed_view> out;
    out.reserve(size());
    for_each([&](packed_view r) { out.push_back(r); });
    sort_by_key(out);
    return out;
}

namespace {

// The views of `columns` among a row's `values` (null past the end).
key_views gather(std::span<const value_view> values, std::span<const std::size_t> columns) {
    key_views out;
    for (std::size_t c : columns) out.push_back(c < values.size() ? values[c] : value_view());
    return out;
}

}  // namespace

void row_store::check_unique(std::span<const value_view> values, packed_view allowed_a,
                             packed_view allowed_b, const index_mask& unchanged) const {
    for (std::size_t i = 0; i < layouts_.size(); ++i) {
        const auto& layout = layouts_[i];
        if (!layout.unique || (!unchanged.empty() && unchanged[i])) continue;
        const key_views probe = gather(values, layout.columns);
        // Like SQL unique indexes: a key containing null conflicts with nothing.
        if (std::any_of(probe.begin(), probe.end(), [](const auto& v) { return v.is_null(); })) {
            continue;
        }
        const packed_view owner = indexes_[i].other_than(probe, allowed_a, allowed_b);
        if (owner.empty()) continue;
        throw error(
            errc::target_failed,
            fmt::format("unique index \"{}\" already holds key {} for the row with "
                        "key {}; the row with key {} cannot take it",
                        layout.name, describe(probe), describe(columns_of(owner, key_columns_)),
                        describe(gather(values, key_columns_))));
    }
}

void row_store::index(packed_view r, const index_mask& skip) {
    for (std::size_t i = 0; i < indexes_.size(); ++i) {
        if (skip.empty() || !skip[i]) indexes_[i].add(r);
    }
}

void row_store::unindex(packed_view r, const index_mask& skip) {
    for (std::size_t i = 0; i < indexes_.size(); ++i) {
        if (skip.empty() || !skip[i]) indexes_[i].remove(r);
    }
}

row_store::put_result row_store::put(packed_view r, packed_view previous) {
    row_views values;
    for (packed_cursor cursor(r); !cursor.done();) values.push_back(cursor.next());
    return put(values, previous);
}

row_store::put_result row_store::put(std::span<const value_view> values, packed_view previous,
                                     bool overwrite) {
    const auto rehash = [this](flat_table::word w) { return key_hash(packed_view(row_of(w))); };
    // Normally reserved beside already (table_core); a store being filled privately grows here.
    if (!rows_.fits(1)) rows_ = rows_.rebuilt(1, rehash);
    // One walk finds the row with this key, or where the new row goes.
    const key_views key = gather(values, key_columns_);
    const std::uint64_t hash = hash_of(key);
    const auto probe = rows_.probe(hash, [&](flat_table::word w) {
        return compare_columns(packed_view(row_of(w)), key, key_columns_) == 0;
    });
    const std::size_t same_slot = probe.found;
    const packed_view same =
        same_slot == flat_table::npos ? packed_view() : packed_view(row_of(rows_.at(same_slot)));
    std::size_t previous_slot = flat_table::npos;
    if (!previous.empty() && previous.data() != same.data()) previous_slot = find_slot(previous);
    if (previous_slot == flat_table::npos) previous = {};

    // Indexes whose values the new row keeps from the row it replaces: their entries stay
    // (repointed when the row moves), not removed and re-added.
    index_mask kept;
    if (!same.empty() && !indexes_.empty()) {
        kept.resize(layouts_.size());
        for (std::size_t i = 0; i < layouts_.size(); ++i) {
            const auto& columns = layouts_[i].columns;
            kept[i] = compare_columns(same, gather(values, columns), columns) == 0;
        }
    }
    check_unique(values, same, previous, kept);
    // Whatever may throw happens before the store changes.
    const std::size_t size = packed_row::encoded_size(values);
    const bool in_place = overwrite && !same.empty() && size == same.size_bytes();
    std::byte* const fresh = in_place ? nullptr : arena_.allocate(size);

    put_result result;
    const index_mask none;
    if (previous_slot != flat_table::npos) {
        unindex(previous, none);
        rows_.erase(previous_slot);
        result.removed = taken_row(arena_, previous);
    }
    if (in_place) {
        // Entries of the index values that change are found by the old bytes: out first.
        unindex(same, kept);
        packed_row::encode_into(const_cast<std::byte*>(same.data()), values);
        index(same, kept);
        result.stored = same;
        return result;
    }
    packed_row::encode_into(fresh, values);
    const packed_view stored(fresh);
    if (!same.empty()) {
        for (std::size_t i = 0; i < indexes_.size(); ++i) {
            if (kept[i]) indexes_[i].repoint(same, stored);
        }
        unindex(same, kept);
        // Same key, same hash: the new row takes the old one's slot.
        rows_.set(same_slot, reinterpret_cast<flat_table::word>(stored.data()));
        result.replaced = taken_row(arena_, same);
        index(stored, kept);
    } else {
        rows_.insert_at(probe.free, hash, reinterpret_cast<flat_table::word>(stored.data()));
        index(stored, none);
    }
    result.stored = stored;
    return result;
}

taken_row row_store::erase(std::span<const value_view> key) {
    const std::size_t slot = find_slot(hash_of(key), key);
    if (slot == flat_table::npos) return {};
    const packed_view gone(row_of(rows_.at(slot)));
    unindex(gone, index_mask());
    rows_.erase(slot);
    return taken_row(arena_, gone);
}

std::size_t row_store::index_position(std::string_view name) const noexcept {
    for (std::size_t i = 0; i < layouts_.size(); ++i) {
        if (layouts_[i].name == name) return i;
    }
    return npos;
}

std::vector<packed_view> row_store::index_lookup(std::size_t index,
                                                 std::span<const value_view> values) const {
    auto out = indexes_.at(index).matches(values);
    sort_by_key(out);
    return out;
}

std::size_t row_store::table_bytes() const noexcept {
    std::size_t out = rows_.bytes();
    for (const auto& i : indexes_) out += i.table_bytes();
    return out;
}

void row_store::reserve_beside(std::size_t incoming) {
    if (!rows_.fits(incoming)) {
        reserved_rows_ = rows_.rebuilt(
            incoming, [this](flat_table::word w) { return key_hash(packed_view(row_of(w))); });
        has_reserved_ = true;
    }
    for (auto& i : indexes_) i.reserve_beside(incoming);
}

void row_store::swap_in_reserved() noexcept {
    if (has_reserved_) {
        rows_ = std::move(reserved_rows_);
        has_reserved_ = false;
    }
    for (auto& i : indexes_) i.swap_in_reserved();
}

}  // namespace laredo::targets::memory::detail
