#pragma once

// A secondary index of a row_store: the rows by the values of some of their columns. One
// hash-table slot per distinct value: the row itself when one row has it, else a group (the
// value, packed, and a hash set of its rows), so a row is found, added and removed in O(1)
// however many rows share its value, and an entry costs a pointer in a table, not a node.

#include "flat_table.hpp"
#include "table_layout.hpp"

#include "laredo/targets/memory/packed_row.hpp"
#include "laredo/targets/memory/value_view.hpp"

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace laredo::targets::memory::detail {

struct index_layout {
    std::string name;
    std::vector<std::size_t> columns;  // positions in the schema
    bool unique = false;
};

class secondary_index {
  public:
    explicit secondary_index(const index_layout& layout);
    ~secondary_index();
    secondary_index(secondary_index&& other) noexcept;
    secondary_index& operator=(secondary_index&&) = delete;
    secondary_index(const secondary_index&) = delete;
    secondary_index& operator=(const secondary_index&) = delete;

    const index_layout& layout() const noexcept { return layout_; }
    // Rows indexed.
    std::size_t size() const noexcept { return rows_; }
    // Bytes held by the hash tables and groups (not the rows).
    std::size_t table_bytes() const noexcept;

    // Adds `row`, which is not indexed yet.
    void add(packed_view row);
    // Removes `row`'s own entry (another row with the same values keeps its entry).
    void remove(packed_view row);
    // Points `from`'s entry at `to`, which has the same values in the index's columns.
    void repoint(packed_view from, packed_view to);

    // The rows whose index columns equal `values`, in no particular order.
    std::vector<packed_view> matches(std::span<const value_view> values) const;
    // A row whose index columns equal `values` other than `a` and `b`, or an empty view.
    packed_view other_than(std::span<const value_view> values, packed_view a, packed_view b) const;

    // See table_store: room for `incoming` more rows, built without touching the table
    // readers use, then swapped in.
    void reserve_beside(std::size_t incoming);
    void swap_in_reserved() noexcept;

  private:
    struct group;
    using word = flat_table::word;

    static bool is_group(word w) noexcept { return (w & 1) != 0; }
    static group* group_of(word w) noexcept;
    static const std::byte* row_of(word w) noexcept {
        return reinterpret_cast<const std::byte*>(w);
    }
    std::uint64_t hash_of_word(word w) const noexcept;
    // The slot of the entry for `values`, or npos.
    std::size_t find(std::uint64_t hash, std::span<const value_view> values) const;

    index_layout layout_;
    std::vector<std::size_t> key_positions_;  // 0..n-1: the columns of a group's packed value
    flat_table table_;
    flat_table reserved_;
    bool has_reserved_ = false;
    std::size_t rows_ = 0;
};

}  // namespace laredo::targets::memory::detail
