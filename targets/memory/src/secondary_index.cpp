#include "secondary_index.hpp"

#include "value_hash.hpp"

#include <utility>

namespace laredo::targets::memory::detail {

namespace {

std::uint64_t address_hash(flat_table::word w) noexcept { return mix(w); }

bool same_row(flat_table::word w, const std::byte* row) noexcept {
    return w == reinterpret_cast<flat_table::word>(row);
}

}  // namespace

// The rows sharing one value: the value (packed, its columns in index order) and the rows,
// hashed by address.
struct secondary_index::group {
    std::uint64_t hash;
    packed_row value;
    flat_table rows;

    void add(const std::byte* row) {
        const auto w = reinterpret_cast<word>(row);
        rows.insert(address_hash(w), w, address_hash);
    }
    void remove(const std::byte* row) noexcept {
        const auto slot = rows.find(address_hash(reinterpret_cast<word>(row)),
                                    [row](word w) { return same_row(w, row); });
        if (slot != flat_table::npos) rows.erase(slot);
    }
};

secondary_index::group* secondary_index::group_of(word w) noexcept {
    return reinterpret_cast<group*>(w & ~word{1});
}

secondary_index::secondary_index(const index_layout& layout) : layout_(layout) {
    for (std::size_t i = 0; i < layout_.columns.size(); ++i) key_positions_.push_back(i);
}

secondary_index::secondary_index(secondary_index&& other) noexcept
    : layout_(std::move(other.layout_)),
      key_positions_(std::move(other.key_positions_)),
      table_(std::move(other.table_)),
      reserved_(std::move(other.reserved_)),
      has_reserved_(std::exchange(other.has_reserved_, false)),
      rows_(std::exchange(other.rows_, 0)) {}

secondary_index::~secondary_index() {
    table_.for_each([](word w) {
        if (is_group(w)) delete group_of(w);
    });
}

std::uint64_t secondary_index::hash_of_word(word w) const noexcept {
    if (is_group(w)) return group_of(w)->hash;
    return hash_of(packed_view(row_of(w)), layout_.columns);
}

std::size_t secondary_index::find(std::uint64_t hash, std::span<const value_view> values) const {
    return table_.find(hash, [&](word w) {
        if (is_group(w))
            return compare_columns(group_of(w)->value.view(), values, key_positions_) == 0;
        return compare_columns(packed_view(row_of(w)), values, layout_.columns) == 0;
    });
}

void secondary_index::add(packed_view row) {
    const key_views values = columns_of(row, layout_.columns);
    const std::uint64_t hash = hash_of(values);
    const std::size_t slot = find(hash, values);
    const auto w = reinterpret_cast<word>(row.data());
    if (slot == flat_table::npos) {
        table_.insert(hash, w, [this](word x) { return hash_of_word(x); });
    } else if (const word there = table_.at(slot); is_group(there)) {
        group_of(there)->add(row.data());
    } else {
        // A second row with this value: the slot now holds a group of both.
        auto g = std::make_unique<group>(group{hash, packed_row::encode(values), flat_table()});
        g->add(row_of(there));
        g->add(row.data());
        table_.set(slot, reinterpret_cast<word>(g.release()) | 1);
    }
    ++rows_;
}

void secondary_index::remove(packed_view row) {
    const key_views values = columns_of(row, layout_.columns);
    const std::size_t slot = find(hash_of(values), values);
    if (slot == flat_table::npos) return;
    const word there = table_.at(slot);
    if (!is_group(there)) {
        if (!same_row(there, row.data())) return;
        table_.erase(slot);
        --rows_;
        return;
    }
    group* g = group_of(there);
    const std::size_t before = g->rows.size();
    g->remove(row.data());
    rows_ -= before - g->rows.size();
    if (g->rows.size() == 1) {
        // One row left: the slot holds it again.
        g->rows.for_each([&](word last) { table_.set(slot, last); });
        delete g;
    }
}

void secondary_index::repoint(packed_view from, packed_view to) {
    const key_views values = columns_of(from, layout_.columns);
    const std::size_t slot = find(hash_of(values), values);
    if (slot == flat_table::npos) return;
    const word there = table_.at(slot);
    if (!is_group(there)) {
        if (same_row(there, from.data())) table_.set(slot, reinterpret_cast<word>(to.data()));
        return;
    }
    group_of(there)->remove(from.data());
    group_of(there)->add(to.data());
}

std::vector<packed_view> secondary_index::matches(std::span<const value_view> values) const {
    std::vector<packed_view> out;
    const std::size_t slot = find(hash_of(values), values);
    if (slot == flat_table::npos) return out;
    const word there = table_.at(slot);
    if (!is_group(there)) {
        out.emplace_back(row_of(there));
        return out;
    }
    out.reserve(group_of(there)->rows.size());
    group_of(there)->rows.for_each([&](word w) { out.emplace_back(row_of(w)); });
    return out;
}

packed_view secondary_index::other_than(std::span<const value_view> values, packed_view a,
                                        packed_view b) const {
    const std::size_t slot = find(hash_of(values), values);
    if (slot == flat_table::npos) return {};
    const word there = table_.at(slot);
    const auto allowed = [&](word w) { return same_row(w, a.data()) || same_row(w, b.data()); };
    if (!is_group(there)) return allowed(there) ? packed_view() : packed_view(row_of(there));
    const group& g = *group_of(there);
    // At most two rows are allowed: a group of three or more always holds another.
    packed_view other;
    g.rows.for_each([&](word w) {
        if (other.empty() && !allowed(w)) other = packed_view(row_of(w));
    });
    return other;
}

std::size_t secondary_index::table_bytes() const noexcept {
    std::size_t out = table_.bytes();
    table_.for_each([&](word w) {
        if (!is_group(w)) return;
        const group& g = *group_of(w);
        out += sizeof(group) + g.rows.bytes() + g.value.view().size_bytes();
    });
    return out;
}

void secondary_index::reserve_beside(std::size_t incoming) {
    if (table_.fits(incoming)) return;
    reserved_ = table_.rebuilt(incoming, [this](word w) { return hash_of_word(w); });
    has_reserved_ = true;
}

void secondary_index::swap_in_reserved() noexcept {
    if (!has_reserved_) return;
    table_ = std::move(reserved_);
    reserved_ = flat_table();
    has_reserved_ = false;
}

}  // namespace laredo::targets::memory::detail
